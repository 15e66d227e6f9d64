"""A compressed DICOM whose decoder is an optional (not installed) package: one message naming the file, the
transfer syntax and the package to install."""
import numpy as np
import pytest
from pydicom.pixels.decoders.base import get_decoder

from vinbig_mmdet.demo.dicom_writer import TRANSFER_SYNTAXES, write_dicom
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.io import read_dicom


def test_jpeg_ls_without_a_decoder_names_the_package(tmp_path, monkeypatch):
    path = tmp_path / 'a.dicom'
    write_dicom(path, np.arange(60 * 40, dtype=np.uint16).reshape(60, 40), transfer_syntax='jpegls')
    monkeypatch.setattr(get_decoder(TRANSFER_SYNTAXES['jpegls']), '_available', {})  # as if none were installed
    with pytest.raises(InputError, match=rf"(?s){path}.*JPEG-LS Lossless.*no installed decoder.*pip install pyjpegls"):
        read_dicom(path)


def test_a_broken_file_with_a_decoder_installed_gets_no_install_hint(tmp_path):
    path = tmp_path / 'a.dicom'
    write_dicom(path, np.arange(60 * 40, dtype=np.uint16).reshape(60, 40), transfer_syntax='jpeg2000')
    data = path.read_bytes()
    path.write_bytes(data[:len(data) - 200] + b'\0' * 200)  # a damaged code stream
    with pytest.raises(InputError) as exc:
        read_dicom(path)
    assert 'pip install' not in str(exc.value)
