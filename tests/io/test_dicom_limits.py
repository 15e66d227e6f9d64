"""Hostile DICOMs (issue 21): declared sizes above the cap, JPEG 2000 codestreams that disagree with the header,
decoder warnings, and display attributes that fail or blank the image. Each is refused with one message naming
the file, the attribute and the fix, before anything large is decoded."""
import struct
import tracemalloc
import warnings

import numpy as np
import pydicom
import pytest
from pydicom.encaps import generate_frames

from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.io import DicomReadError, read_dicom, read_dicom_header
from vinbig_mmdet.io import dicom as dicom_io
from vinbig_mmdet.io.dicom import MAX_PIXELS_ENV, j2k_size


def stored(rng, h=64, w=80):
    return rng.integers(0, 4000, (h, w)).astype(np.uint16)


def j2k_file(tmp_path, rng, name='a.dicom', h=64, w=80):
    path = tmp_path / name
    write_dicom(path, stored(rng, h, w), transfer_syntax='jpeg2000')
    return path


def patch_siz(path, width=None, height=None, bits=None, rows=None, columns=None):
    """Rewrite the codestream's SIZ marker (and optionally Rows/Columns) in place, keeping the file's length."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b'\xff\x4f\xff\x51')
    if width is not None:
        raw[at + 8:at + 16] = struct.pack('>II', width, height)
    if bits is not None:
        raw[at + 42] = bits - 1
    path.write_bytes(bytes(raw))
    if rows is not None:
        ds = pydicom.dcmread(path)
        ds.Rows, ds.Columns = rows, columns
        ds.save_as(path)


def refused(path, *texts, **kwargs):
    with pytest.raises(DicomReadError) as info:
        read_dicom(path, **kwargs)
    message = str(info.value)
    assert str(path) in message, message
    for text in texts:
        assert text in message, message
    return message


def test_siz_parser_reads_the_writer_output(tmp_path, rng):
    path = j2k_file(tmp_path, rng)
    frame = next(generate_frames(pydicom.dcmread(path).PixelData, number_of_frames=1))
    assert j2k_size(frame) == (80, 64, 12)


def test_declared_size_above_the_cap_is_refused_before_decoding(tmp_path, rng):
    # a small file declaring 16000 x 16000 in its header and its codestream: 1.5 GB to decode
    path = j2k_file(tmp_path, rng)
    patch_siz(path, 16000, 16000, rows=16000, columns=16000)
    assert path.stat().st_size < 20_000
    tracemalloc.start()
    try:
        message = refused(path, '16000 x 16000', MAX_PIXELS_ENV)
        with pytest.raises(DicomReadError):  # the data set build reads only the header: refused there too
            read_dicom_header(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, (peak, message)


def test_codestream_larger_than_the_header_is_refused(tmp_path, rng):
    path = j2k_file(tmp_path, rng)
    patch_siz(path, 16000, 16000)  # header still says 80 x 64
    refused(path, 'JPEG 2000 codestream declares 16000 x 16000')


def test_codestream_size_or_bit_depth_mismatch_is_refused(tmp_path, rng):
    path = j2k_file(tmp_path, rng)
    patch_siz(path, 40, 64)
    refused(path, 'codestream is 40 x 64', 'Columns x Rows = 80 x 64', 'replace it')
    path = j2k_file(tmp_path, rng, 'b.dicom')
    patch_siz(path, bits=17)
    refused(path, '17-bit', 'BitsAllocated is 16')


def test_reading_stays_bounded_by_a_small_cap(tmp_path, rng, monkeypatch):
    monkeypatch.setenv(MAX_PIXELS_ENV, str(128 * 160))
    ok = j2k_file(tmp_path, rng, 'ok.dicom', 128, 160)
    big = j2k_file(tmp_path, rng, 'big.dicom', 129, 160)
    refused(big, '160 x 129', f'cap of {128 * 160}')
    read_dicom(ok)  # warm the decoder's imports
    tracemalloc.start()
    try:
        assert read_dicom(ok).shape == (128, 160)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 128 * 160, peak  # a few arrays of the image, never more than the cap allows


def test_bad_cap_setting_names_the_variable(tmp_path, rng, monkeypatch):
    monkeypatch.setenv(MAX_PIXELS_ENV, 'lots')
    path = j2k_file(tmp_path, rng)
    with pytest.raises(dicom_io.InputError, match=f'{MAX_PIXELS_ENV}=.lots. is not a positive integer'):
        read_dicom(path)


def test_a_decoder_warning_is_a_read_error(tmp_path, rng, monkeypatch):
    path = j2k_file(tmp_path, rng)
    original = pydicom.Dataset.pixel_array

    def warning_decoder(ds):
        warnings.warn('tile 3: truncated code-block data', UserWarning)  # as a decoder plugin warns
        return original.fget(ds)

    monkeypatch.setattr(pydicom.Dataset, 'pixel_array', property(warning_decoder))
    monkeypatch.setattr(dicom_io, '_DECODER_MODULES', dicom_io._DECODER_MODULES + ('tests/io', ))
    refused(path, 'decoder reported a problem', 'truncated code-block', 'replace the file')


def test_damaged_coded_data_cannot_be_detected_and_the_docs_say_so(tmp_path, rng):
    # the limit documented in vinbig_mmdet/io/dicom.py and data/README.md: no checksum in JPEG 2000
    assert 'no checksum' in dicom_io.__doc__


def with_attributes(tmp_path, rng, name, setup, **attrs):
    path = tmp_path / f'{name}.dicom'
    write_dicom(path, stored(rng), **setup)
    ds = pydicom.dcmread(path)
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.save_as(path)
    return path


def test_rescale_slope_zero_is_refused(tmp_path, rng):
    path = with_attributes(tmp_path, rng, 'slope0', dict(rescale=(1, 0)), RescaleSlope=0)
    refused(path, 'RescaleSlope = 0', 'blank', 'RescaleSlope is usually 1')


def test_non_numeric_rescale_slope_is_refused(tmp_path, rng):
    path = with_attributes(tmp_path, rng, 'slope', dict(rescale=(1, 0)))
    raw = path.read_bytes()
    at = raw.find(b'\x28\x00\x53\x10DS\x04\x00')  # (0028,1053) RescaleSlope, 4 bytes
    path.write_bytes(raw[:at + 8] + b'abc ' + raw[at + 12:])
    refused(path, "RescaleSlope = 'abc' is not a number", 'correct the attribute')


def test_window_width_zero_is_refused(tmp_path, rng):
    path = with_attributes(tmp_path, rng, 'ww0', dict(window=(2000, 500)), WindowWidth=0)
    refused(path, 'WindowWidth = 0', 'at least 1')
    read_dicom(path, voi_lut=False)  # without the VOI step the window is not used


def test_voi_lut_shorter_than_its_descriptor_is_refused(tmp_path, rng):
    path = tmp_path / 'lut.dicom'
    write_dicom(path, stored(rng), voi_lut_table=np.arange(100, dtype=np.uint16))
    ds = pydicom.dcmread(path)
    ds.VOILUTSequence[0].LUTDescriptor = [200, 0, 16]
    ds.save_as(path)
    refused(path, 'VOI LUT has 100 entries', 'declares 200')


def test_a_window_that_blanks_the_image_is_refused(tmp_path, rng):
    path = with_attributes(tmp_path, rng, 'flat', dict(window=(60000, 1)))
    refused(path, 'maps stored values', 'blank')


def test_the_training_transform_names_the_file_and_the_fix(tmp_path, rng):
    from vinbig_mmdet.datasets.transforms import BAD_IMAGE_FIX, LoadDicomFromFile
    path = with_attributes(tmp_path, rng, 'ww0', dict(window=(2000, 500)), WindowWidth=0)
    with pytest.raises(DicomReadError) as info:
        LoadDicomFromFile().transform(dict(img_path=str(path)))
    assert str(info.value).startswith(str(path)) and 'WindowWidth = 0' in str(info.value)
    assert BAD_IMAGE_FIX in str(info.value)
