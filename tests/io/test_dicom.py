"""The one DICOM reader, against pixel values known from how the files were written."""
import numpy as np
import pydicom
import pytest

from vinbig_mmdet.demo.dicom_writer import TRANSFER_SYNTAXES, write_dicom
from vinbig_mmdet.io import DicomReadError, ImageReadError, read_dicom, read_dicom_header, read_image

RAMP = np.arange(4096, dtype=np.uint16).reshape(64, 64)  # every 12-bit value once


def linear_window(x, centre, width):
    """DICOM PS3.3 C.11.2.1.2.1 linear VOI function, output in [0, 1]."""
    x = np.asarray(x, np.float64)
    y = (x - (centre - 0.5)) / (width - 1) + 0.5
    return np.clip(y, 0, 1)


def stretch_u8(y):
    y = (y - y.min()) / (y.max() - y.min())
    return np.rint(y * 255).astype(np.uint8)


@pytest.mark.parametrize('photometric', ['MONOCHROME1', 'MONOCHROME2'])
def test_window_centre_width(tmp_path, photometric):
    path = tmp_path / 'a.dicom'
    write_dicom(path, RAMP, photometric=photometric, window=(2048, 1024))
    expected = stretch_u8(linear_window(RAMP, 2048, 1024))
    if photometric == 'MONOCHROME1':
        expected = 255 - expected
    out = read_dicom(path)
    assert out.dtype == np.uint8 and out.shape == RAMP.shape
    assert np.abs(out.astype(int) - expected).max() <= 1
    # below the window is black (white for MONOCHROME1), above it white
    assert out[0, 0] == (255 if photometric == 'MONOCHROME1' else 0)
    assert out[-1, -1] == (0 if photometric == 'MONOCHROME1' else 255)


def test_rescale_then_window(tmp_path):
    """The modality LUT (slope/intercept) applies before the window, which is in modality units."""
    path = tmp_path / 'a.dicom'
    write_dicom(path, RAMP, window=(3000, 2000), rescale=(2.0, -1000.0))
    expected = stretch_u8(linear_window(RAMP * 2.0 - 1000.0, 3000, 2000))
    assert np.abs(read_dicom(path).astype(int) - expected).max() <= 1


def test_voi_lut_sequence(tmp_path):
    path = tmp_path / 'a.dicom'
    table = (np.sqrt(np.arange(4096)) * 1000).astype(np.uint16)  # a non-linear VOI LUT
    write_dicom(path, RAMP, voi_lut_table=table)
    expected = stretch_u8(table[RAMP].astype(np.float64))
    assert np.abs(read_dicom(path).astype(int) - expected).max() <= 1


def test_no_window_stretches_min_max_and_16_bit_output(tmp_path):
    path = tmp_path / 'a.dicom'
    img = (RAMP // 4 + 100).astype(np.uint16)  # 100..1123
    write_dicom(path, img)
    out8, out16 = read_dicom(path), read_dicom(path, bit_depth=16)
    assert out8.min() == 0 and out8.max() == 255
    assert out16.dtype == np.uint16 and out16.max() == 65535
    expected16 = np.rint((img - 100.0) / 1023.0 * 65535)
    assert np.abs(out16.astype(np.int64) - expected16).max() <= 1


def test_voi_lut_off_uses_raw_values(tmp_path):
    path = tmp_path / 'a.dicom'
    write_dicom(path, RAMP, window=(100, 50))  # a narrow window: almost everything saturates
    assert (read_dicom(path) == 255).mean() > 0.9
    assert np.abs(read_dicom(path, voi_lut=False).astype(int) - stretch_u8(RAMP.astype(float))).max() <= 1


@pytest.mark.parametrize('syntax', [s for s in TRANSFER_SYNTAXES if s != 'explicit'])
@pytest.mark.parametrize('photometric', ['MONOCHROME1', 'MONOCHROME2'])
def test_compressed_syntaxes_decode_losslessly(tmp_path, syntax, photometric, rng):
    img = rng.integers(0, 4096, (90, 70)).astype(np.uint16)
    plain, packed = tmp_path / 'plain.dicom', tmp_path / f'{syntax}.dicom'
    write_dicom(plain, img, photometric=photometric, window=(1500, 2500))
    write_dicom(packed, img, photometric=photometric, window=(1500, 2500), transfer_syntax=syntax)
    assert pydicom.dcmread(packed).file_meta.TransferSyntaxUID == TRANSFER_SYNTAXES[syntax]
    assert pydicom.dcmread(packed).pixel_array.tolist() == img.tolist()
    np.testing.assert_array_equal(read_dicom(packed), read_dicom(plain))


def test_header_without_pixels(tmp_path, rng):
    path = tmp_path / 'a.dicom'
    write_dicom(path, rng.integers(0, 4096, (60, 90)).astype(np.uint16), photometric='MONOCHROME1',
                transfer_syntax='jpeg2000')
    header = read_dicom_header(path)
    assert (header['rows'], header['columns']) == (60, 90)
    assert header['photometric_interpretation'] == 'MONOCHROME1'
    assert header['transfer_syntax'] == str(TRANSFER_SYNTAXES['jpeg2000'])


def test_missing_transfer_syntax_is_repaired(tmp_path):
    path = tmp_path / 'a.dicom'
    write_dicom(path, RAMP, window=(2048, 1024))
    ds = pydicom.dcmread(path)
    del ds.file_meta.TransferSyntaxUID
    bare = tmp_path / 'bare.dicom'
    pydicom.dcmwrite(bare, ds, implicit_vr=False, little_endian=True, enforce_file_format=False)
    assert 'TransferSyntaxUID' not in pydicom.dcmread(bare).file_meta
    np.testing.assert_array_equal(read_dicom(bare), read_dicom(path))


def test_not_a_dicom_names_the_file(tmp_path):
    path = tmp_path / 'notes.dicom'
    path.write_text('image_id,class_name\nthis is not an image\n')
    with pytest.raises(DicomReadError, match='notes.dicom') as err:
        read_dicom(path)
    assert 'not a DICOM' in str(err.value)


def test_no_pixel_data_names_the_file(tmp_path):
    path = tmp_path / 'empty.dicom'
    write_dicom(path, RAMP)
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    with pytest.raises(DicomReadError, match=r'empty\.dicom.*no pixel data'):
        read_dicom(path)


@pytest.mark.parametrize('syntax', ['explicit', 'jpeg2000'])
def test_truncated_file_names_the_file(tmp_path, syntax, rng):
    path = tmp_path / 'cut.dicom'
    write_dicom(path, rng.integers(0, 4096, (100, 100)).astype(np.uint16), transfer_syntax=syntax)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) * 2 // 3])
    with pytest.raises(DicomReadError, match=r'cut\.dicom'):
        read_dicom(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_dicom(tmp_path / 'nope.dicom')


def test_read_image_png_and_broken_png(tmp_path):
    import cv2
    img = (np.arange(64 * 80) % 256).astype(np.uint8).reshape(64, 80)
    cv2.imwrite(str(tmp_path / 'a.png'), img)
    np.testing.assert_array_equal(read_image(tmp_path / 'a.png'), img)
    (tmp_path / 'b.png').write_bytes(b'not a png')
    with pytest.raises(ImageReadError, match=r'b\.png'):
        read_image(tmp_path / 'b.png')


def write_32_bit(path, stored):
    """A DICOM with 32-bit stored values (BitsAllocated = BitsStored = 32), written with pydicom directly."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = '1.2.840.10008.5.1.4.1.1.1.1'
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, 'MONOCHROME2'
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 32, 32, 31, 0
    ds.PixelData = stored.astype('<u4').tobytes()
    ds.save_as(str(path), enforce_file_format=True)


def test_32_bit_values_cost_what_the_image_costs(tmp_path, rng):
    import time
    import tracemalloc
    stored = rng.integers(0, 2**32, (100, 100), dtype=np.uint64).astype(np.uint32)
    stored[0, 0], stored[0, 1] = 0, 2**32 - 1  # the full 32-bit range: a value table would take 32 GiB
    path = tmp_path / 'wide.dicom'
    write_32_bit(path, stored)
    assert path.stat().st_size < 50_000
    tracemalloc.start()
    start = time.perf_counter()
    try:
        out = read_dicom(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 5 and peak < 5_000_000  # was 8-10 GB and 40 s
    expected = np.rint(stored.astype(np.float64) / (2**32 - 1) * 255)  # no window: min-max stretch
    assert np.abs(out.astype(int) - expected).max() <= 1


def test_out_of_memory_is_a_named_read_error(tmp_path, monkeypatch):
    from vinbig_mmdet.io import dicom
    path = tmp_path / 'huge.dicom'
    write_dicom(path, RAMP)

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(dicom, 'to_uint', no_memory)
    with pytest.raises(DicomReadError, match=r'huge\.dicom: out of memory decoding 64 x 64 pixels of 12 bits'):
        read_dicom(path)


def test_read_errors_survive_a_dataloader_worker(tmp_path):
    """torch re-raises a worker's exception as ``type(exc)(text with the traceback)``: the message stays ours."""
    from torch._utils import ExceptionWrapper
    path = tmp_path / 'cut.dicom'
    path.write_bytes(b'not a dicom at all')
    try:
        read_dicom(path)
    except DicomReadError:
        wrapper = ExceptionWrapper(where='in DataLoader worker process 0')
    with pytest.raises(DicomReadError) as err:
        wrapper.reraise()
    assert str(err.value).startswith(f'{path}: not a DICOM file') and 'Traceback' not in str(err.value)
    assert err.value.path == str(path)
