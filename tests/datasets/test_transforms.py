"""LoadDicomFromFile: DICOMs through the project's reader, PNGs like LoadImageFromFile."""
import cv2
import numpy as np
import pytest

from vinbig_mmdet.datasets import LoadDicomFromFile
from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.io import DicomReadError, read_dicom


def test_dicom_gives_the_keys_of_load_image_from_file(tmp_path, rng):
    path = tmp_path / 'x.dicom'
    write_dicom(path, rng.integers(0, 4096, (40, 64)).astype(np.uint16), photometric='MONOCHROME1',
                window=(2000, 3000), transfer_syntax='jpeg2000')
    out = LoadDicomFromFile()(dict(img_path=str(path)))
    assert out['img'].shape == (40, 64, 3) and out['img'].dtype == np.uint8
    assert out['img_shape'] == (40, 64) and out['ori_shape'] == (40, 64)
    np.testing.assert_array_equal(out['img'][:, :, 1], read_dicom(path))
    assert LoadDicomFromFile(to_float32=True)(dict(img_path=str(path)))['img'].dtype == np.float32


def test_png_goes_through_mmcv(tmp_path):
    img = np.tile(np.arange(30, dtype=np.uint8), (20, 1))
    cv2.imwrite(str(tmp_path / 'x.png'), img)
    out = LoadDicomFromFile()(dict(img_path=str(tmp_path / 'x.png')))
    assert out['img'].shape == (20, 30, 3)
    np.testing.assert_array_equal(out['img'][:, :, 0], img)


def test_corrupt_dicom_names_the_file(tmp_path):
    (tmp_path / 'bad.dicom').write_bytes(b'\x00' * 50)
    with pytest.raises(DicomReadError, match=r'bad\.dicom'):
        LoadDicomFromFile()(dict(img_path=str(tmp_path / 'bad.dicom')))
