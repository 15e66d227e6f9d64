"""The DICOM -> PNG converter on generated DICOMs of each kind, broken files, and an interrupted run."""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pydicom
import pytest

from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.io import read_dicom
from vinbig_mmdet.io.convert import convert_folder, target_size

ROOT = Path(__file__).resolve().parents[2]
KINDS = [('mono1_plain', 'MONOCHROME1', 'explicit'), ('mono2_plain', 'MONOCHROME2', 'explicit'),
         ('mono2_j2k', 'MONOCHROME2', 'jpeg2000'), ('mono1_jls', 'MONOCHROME1', 'jpegls'),
         ('mono2_rle', 'MONOCHROME2', 'rle')]


@pytest.fixture
def dicom_dir(tmp_path, rng):
    src = tmp_path / 'src'
    src.mkdir()
    for name, photometric, syntax in KINDS:
        h, w = rng.integers(90, 140), rng.integers(100, 160)
        write_dicom(src / f'{name}.dicom', rng.integers(0, 4096, (h, w)).astype(np.uint16),
                    photometric=photometric, window=(2000, 3000), transfer_syntax=syntax)
    (src / 'not_dicom.dicom').write_text('hello')
    write_dicom(src / 'no_pixels.dicom', np.zeros((64, 64), np.uint16))
    ds = pydicom.dcmread(src / 'no_pixels.dicom')
    del ds.PixelData
    ds.save_as(src / 'no_pixels.dicom')
    write_dicom(src / 'truncated.dicom', rng.integers(0, 4096, (100, 100)).astype(np.uint16))
    data = (src / 'truncated.dicom').read_bytes()
    (src / 'truncated.dicom').write_bytes(data[:len(data) // 2])
    return src


def test_target_size():
    assert target_size(3000, 2000, 1024, False) == (1024, 1024)
    assert target_size(3000, 2000, 1024, True) == (1024, 683)


@pytest.mark.parametrize('keep_aspect', [False, True])
def test_converts_every_kind_and_lists_failures(dicom_dir, tmp_path, keep_aspect):
    out = tmp_path / 'png'
    summary = convert_folder(str(dicom_dir), str(out), size=64, keep_aspect=keep_aspect, workers=2,
                             progress=False)
    assert (summary['total'], summary['converted'], summary['failed']) == (8, 5, 3)
    meta = pd.read_csv(out / 'meta.csv').set_index('image_id')
    assert sorted(meta.index) == sorted(k[0] for k in KINDS)
    for name, photometric, syntax in KINDS:
        ds = pydicom.dcmread(dicom_dir / f'{name}.dicom')
        row = meta.loc[name]
        assert (row['width'], row['height']) == (ds.Columns, ds.Rows)
        assert row['photometric_interpretation'] == photometric
        assert row['transfer_syntax'] == str(ds.file_meta.TransferSyntaxUID)
        png = cv2.imread(str(out / f'{name}.png'), cv2.IMREAD_UNCHANGED)
        assert png.shape == (row['png_height'], row['png_width'])
        assert max(png.shape) == 64 and (png.shape == (64, 64)) != keep_aspect
        expected = cv2.resize(read_dicom(dicom_dir / f'{name}.dicom'), png.shape[::-1],
                              interpolation=cv2.INTER_AREA)
        np.testing.assert_array_equal(png, expected)
    failures = pd.read_csv(out / 'failures.csv').set_index('image_id')
    assert set(failures.index) == {'not_dicom', 'no_pixels', 'truncated'}
    assert 'no pixel data' in failures.loc['no_pixels', 'reason']
    assert 'not a DICOM' in failures.loc['not_dicom', 'reason']
    assert not any(f.endswith('.tmp') for f in os.listdir(out))


def test_16_bit_output(dicom_dir, tmp_path):
    convert_folder(str(dicom_dir), str(tmp_path / 'png16'), size=32, bit_depth=16, workers=1, progress=False)
    png = cv2.imread(str(tmp_path / 'png16' / 'mono2_plain.png'), cv2.IMREAD_UNCHANGED)
    assert png.dtype == np.uint16 and png.max() > 255


def test_resume_after_an_interrupted_run(dicom_dir, tmp_path):
    out = tmp_path / 'png'
    convert_folder(str(dicom_dir), str(out), size=48, workers=1, progress=False)
    # simulate a run killed mid-way: metadata lost, one PNG never written, a temporary file left behind
    (out / 'meta.csv').unlink()
    (out / 'mono2_j2k.png').unlink()
    (out / '.mono1_jls.png.abc.tmp').write_bytes(b'half a png')
    before = (out / 'mono1_plain.png').stat().st_mtime_ns
    summary = convert_folder(str(dicom_dir), str(out), size=48, workers=1, progress=False)
    assert summary['converted'] == 1 and summary['recovered'] == 4 and summary['failed'] == 3
    assert (out / 'mono1_plain.png').stat().st_mtime_ns == before  # not redone
    assert len(pd.read_csv(out / 'meta.csv')) == 5
    assert not any(f.endswith('.tmp') for f in os.listdir(out))


def test_cli_exit_status_and_dataset_reads_the_output(dicom_dir, tmp_path):
    out = tmp_path / 'png'
    proc = subprocess.run([sys.executable, 'tools/prepare_data.py', '--src', str(dicom_dir), '--out', str(out),
                           '--size', '40', '--workers', '2'], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert '5 converted' in proc.stdout and '3 failed' in proc.stdout and 'failures.csv' in proc.stderr
    from vinbig_mmdet.datasets import VinBigDataset
    for bad in ('not_dicom', 'no_pixels', 'truncated'):
        (dicom_dir / f'{bad}.dicom').unlink()
    dataset = VinBigDataset(data_root=str(tmp_path), ann_file='', data_prefix=dict(img='png/'), test_mode=True,
                            pipeline=[])
    infos = {dataset.get_data_info(i)['img_id']: dataset.get_data_info(i) for i in range(len(dataset))}
    assert len(infos) == 5
    ds = pydicom.dcmread(dicom_dir / 'mono2_rle.dicom')
    assert infos['mono2_rle']['original_size'] == (ds.Columns, ds.Rows)  # from meta.csv
    assert (infos['mono2_rle']['width'], infos['mono2_rle']['height']) == (40, 40)
