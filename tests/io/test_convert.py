"""The DICOM -> PNG converter on generated DICOMs of each kind, broken files, and an interrupted run."""
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import time
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


@pytest.mark.e2e
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


def test_rerun_with_other_settings_is_refused_or_redone(dicom_dir, tmp_path):
    from vinbig_mmdet.errors import InputError
    out = tmp_path / 'png'
    convert_folder(str(dicom_dir), str(out), size=48, workers=1, progress=False)
    assert json.loads((out / 'conversion.json').read_text()) == dict(size=48, keep_aspect=False, bit_depth=8)
    before = {p.name: p.stat().st_mtime_ns for p in out.glob('*.png')}
    for other in (dict(size=32), dict(size=48, bit_depth=16), dict(size=48, keep_aspect=True)):
        with pytest.raises(InputError, match=rf'{out} holds PNGs made with --size 48 --bit-depth 8 \(square\).*'
                                             rf'--overwrite'):
            convert_folder(str(dicom_dir), str(out), workers=1, progress=False, **other)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob('*.png')} == before  # nothing touched

    # a folder from before the record existed: its settings are read from meta.csv and the PNGs
    (out / 'conversion.json').unlink()
    with pytest.raises(InputError, match='made with --size 48 --bit-depth 8'):
        convert_folder(str(dicom_dir), str(out), size=32, workers=1, progress=False)
    assert convert_folder(str(dicom_dir), str(out), size=48, workers=1, progress=False)['skipped'] == 5
    assert (out / 'conversion.json').is_file()

    summary = convert_folder(str(dicom_dir), str(out), size=32, bit_depth=16, workers=1, progress=False,
                             overwrite=True)
    assert summary['converted'] == 5 and summary['skipped'] == 0
    for png in out.glob('*.png'):
        img = cv2.imread(str(png), cv2.IMREAD_UNCHANGED)
        assert img.shape == (32, 32) and img.dtype == np.uint16
    assert (pd.read_csv(out / 'meta.csv')['png_width'] == 32).all()


@pytest.mark.e2e
def test_cli_refuses_a_folder_made_with_other_settings(dicom_dir, tmp_path):
    for bad in ('not_dicom', 'no_pixels', 'truncated'):
        (dicom_dir / f'{bad}.dicom').unlink()
    out = tmp_path / 'png'
    common = [sys.executable, 'tools/prepare_data.py', '--src', str(dicom_dir), '--out', str(out), '--workers', '1']
    assert subprocess.run(common + ['--size', '40'], cwd=ROOT, capture_output=True).returncode == 0
    proc = subprocess.run(common + ['--size', '64'], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert f'{out} holds PNGs made with --size 40' in proc.stderr and '--overwrite' in proc.stderr
    proc = subprocess.run(common + ['--size', '64', '--overwrite'], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and '5 converted' in proc.stdout


@pytest.mark.skipif(multiprocessing.get_start_method() != 'fork', reason='the patched converter reaches the '
                    'workers through fork')
def test_a_worker_that_dies_fails_its_file_and_the_run_goes_on(dicom_dir, tmp_path, monkeypatch):
    from vinbig_mmdet.io import convert
    from vinbig_mmdet.io.parallel import WORKER_DIED
    real = convert.convert_one

    def crashing(src, *args):
        if 'mono2_rle' in src:
            os._exit(1)  # as the out-of-memory killer or a crashing decoder would end the worker
        return real(src, *args)

    monkeypatch.setattr(convert, 'convert_one', crashing)
    out = tmp_path / 'png'
    summary = convert_folder(str(dicom_dir), str(out), size=32, workers=2, progress=False)
    assert (summary['converted'], summary['failed']) == (4, 4)
    failures = pd.read_csv(out / 'failures.csv').set_index('image_id')
    assert failures.loc['mono2_rle', 'reason'] == WORKER_DIED
    assert sorted(pd.read_csv(out / 'meta.csv')['image_id']) == ['mono1_jls', 'mono1_plain', 'mono2_j2k',
                                                                 'mono2_plain']


def children_of(pid):
    """Process ids whose parent is ``pid`` (from /proc)."""
    found = []
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.e2e
@pytest.mark.skipif(not Path('/proc/self/stat').exists(), reason='needs /proc (Linux)')
@pytest.mark.parametrize('sig', [signal.SIGTERM, signal.SIGKILL])  # SIGINT takes the SIGTERM path
def test_killing_the_converter_stops_its_workers(dicom_dir, tmp_path, sig):
    script = ('import sys, time\n'
              'from vinbig_mmdet.io import convert\n'
              'convert.convert_one = lambda *a: time.sleep(120)\n'  # workers busy for minutes
              'convert.convert_folder(sys.argv[1], sys.argv[2], size=32, workers=2, progress=False)\n')
    proc = subprocess.Popen([sys.executable, '-c', script, str(dicom_dir), str(tmp_path / 'png')], cwd=ROOT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while len(children_of(proc.pid)) < 2 and time.time() < deadline:
        time.sleep(0.1)
    workers = children_of(proc.pid)
    assert len(workers) >= 2, 'the workers never started'
    time.sleep(1)  # both busy converting
    proc.send_signal(sig)
    proc.wait(timeout=120)  # interpreter teardown of torch and friends, on a loaded machine
    deadline = time.time() + 15
    while any(Path(f'/proc/{w}').exists() and 'Z' not in Path(f'/proc/{w}/stat').read_text().split()[2:3]
              for w in workers) and time.time() < deadline:
        time.sleep(0.1)
    alive = [w for w in workers if Path(f'/proc/{w}').exists()
             and Path(f'/proc/{w}/stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z']
    assert not alive, f'workers {alive} outlived the main process ({sig.name})'
    if sig != signal.SIGKILL:
        assert b'Traceback' not in proc.stderr.read()
