"""The path a Kaggle user takes, end to end: each download laid out exactly as shipped, folds made outside the
(read-only) data folder, a tiny training run, a submission in original DICOM pixels, and one message (no
traceback) for every missing input."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import ROOT, TINY, assert_message, call_tool, run_tool
from vinbig_mmdet.io import read_dicom, read_dicom_header

PNG_SIZE = 128  # square, like the 1024 px sets, and smaller than every demo original (160-260 px)
LAYOUTS = ('competition', 'png_dim0_dim1', 'png_width_height')


def ids_of(csv) -> list:
    return list(dict.fromkeys(pd.read_csv(csv, dtype={'image_id': str})['image_id']))


@pytest.fixture(scope='module')
def downloads(demo_root, tmp_path_factory):
    """The three known downloads, made from the demo DICOMs:

    - competition: train/ and test/ <image_id>.dicom, train.csv, sample_submission.csv
    - png_dim0_dim1 (the most used PNG set): train/ and test/ square PNGs, the competition's train.csv,
      train_meta.csv and test_meta.csv with image_id,dim0,dim1 (original rows, columns); no sample_submission.csv
    - png_width_height: square PNGs, train.csv with width,height columns, test sizes in test_meta.csv
      (image_id,width,height)
    Returns the folders and image_id -> original (width, height)."""
    base = tmp_path_factory.mktemp('downloads')
    sizes = {}
    a = base / 'competition'
    for split in ('train', 'test'):
        shutil.copytree(demo_root / split, a / split)
        for png_root in (base / 'png_dim0_dim1', base / 'png_width_height'):
            (png_root / split).mkdir(parents=True)
        for dicom in sorted((demo_root / split).glob('*.dicom')):
            header = read_dicom_header(dicom)
            sizes[dicom.stem] = (header['columns'], header['rows'])
            png = cv2.resize(read_dicom(dicom), (PNG_SIZE, PNG_SIZE), interpolation=cv2.INTER_AREA)
            for png_root in (base / 'png_dim0_dim1', base / 'png_width_height'):
                cv2.imwrite(str(png_root / split / f'{dicom.stem}.png'), png)
    for name in ('train.csv', 'sample_submission.csv'):
        shutil.copy(demo_root / name, a / name)

    b = base / 'png_dim0_dim1'
    shutil.copy(demo_root / 'train.csv', b / 'train.csv')
    for split, csv in (('train', 'train.csv'), ('test', 'sample_submission.csv')):
        pd.DataFrame([(i, sizes[i][1], sizes[i][0]) for i in ids_of(demo_root / csv)],
                     columns=['image_id', 'dim0', 'dim1']).to_csv(b / f'{split}_meta.csv', index=False)

    c = base / 'png_width_height'
    train = pd.read_csv(demo_root / 'train.csv', dtype={'image_id': str})
    train['width'] = [sizes[i][0] for i in train['image_id']]
    train['height'] = [sizes[i][1] for i in train['image_id']]
    train.to_csv(c / 'train.csv', index=False)
    pd.DataFrame([(i, *sizes[i]) for i in ids_of(demo_root / 'sample_submission.csv')],
                 columns=['image_id', 'width', 'height']).to_csv(c / 'test_meta.csv', index=False)
    return dict(competition=a, png_dim0_dim1=b, png_width_height=c), sizes


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob('*'))}


def boxes_of(submission) -> dict:
    rows = pd.read_csv(submission, dtype={'image_id': str})
    out = {}
    for img_id, text in zip(rows['image_id'], rows['PredictionString']):
        values = [float(v) for v in text.split()]
        out[img_id] = [values[k:k + 6] for k in range(0, len(values), 6)]
    return out


@pytest.mark.e2e
@pytest.mark.parametrize('layout', LAYOUTS)
def test_each_download_trains_and_submits_in_original_pixels(layout, downloads, tmp_path):
    folders, sizes = downloads
    root = folders[layout]
    before = snapshot(root)
    folds = tmp_path / 'folds.csv'  # outside the data folder, as on Kaggle's read-only /kaggle/input
    call_tool('tools/make_folds.py', '--ann', root / 'train.csv', '--n-splits', 3, '--out', folds)
    train = call_tool('tools/train.py', TINY, '--data-path', root, '--folds-file', folds, '--work-dir',
                      tmp_path / 'work', '--n-epochs', 1, '--device', 'cpu')
    summary = train.stdout.strip().splitlines()[-1]
    match = re.fullmatch(r'Training done: best mAP@0\.4 (\d\.\d{4}) at epoch 1 \((\S+best_vinbig_mAP_epoch_1\.pth)\); '
                         r'last checkpoint \S+epoch_1\.pth; trained to epoch 1 on cpu in \d+ s', summary)
    assert match, summary
    assert Path(match.group(2)).is_file()

    sub, raw = tmp_path / 'submission.csv', tmp_path / 'raw.pkl'
    call_tool('tools/test.py', TINY, match.group(2), '--data-path', root, '--folds-file', folds, '--submission', sub,
              '--out', raw, '--work-dir', tmp_path / 'test', '--device', 'cpu',
              '--cfg-options', 'model.test_cfg.rcnn.score_thr=0')  # every image gets boxes to check
    predictions = boxes_of(sub)
    assert sorted(predictions) == sorted(p.stem for p in (root / 'test').iterdir())  # every test image once
    from mmengine.fileio import load
    raw_results = {r['img_id']: r for r in load(str(raw))}  # the model's boxes in the loaded image's pixels
    n_boxes = 0
    for img_id, objects in predictions.items():
        width, height = sizes[img_id]
        loaded = raw_results[img_id]
        assert tuple(loaded['ori_shape']) == ((PNG_SIZE, PNG_SIZE) if layout != 'competition' else (height, width))
        scale = np.array([width / loaded['ori_shape'][1], height / loaded['ori_shape'][0]] * 2)
        expected = np.clip(loaded['pred_instances']['bboxes'].numpy() * scale, 0, [width, height] * 2)
        found = np.array([o[2:] for o in objects if o[0] != 14]).reshape(-1, 4)
        assert any(o[0] == 14 for o in objects) and len(found) == len(expected)
        # the submission's boxes are the model's, scaled from the loaded image to the original (0.1 px rounding)
        np.testing.assert_allclose(np.sort(found, axis=0), np.sort(expected, axis=0), atol=0.051)
        assert ((found >= 0) & (found <= [width, height] * 2)).all()
        n_boxes += len(found)
    assert n_boxes > 0
    assert snapshot(root) == before  # nothing written into the data folder


def partial_copy(source: Path, dest: Path, keep) -> Path:
    """A data folder with only the entries ``keep`` of ``source`` (linked, not copied)."""
    dest.mkdir()
    for name in keep:
        (dest / name).symlink_to(source / name)
    return dest


def test_missing_folds_file_names_the_command(downloads, tmp_path):
    """A folds file named with --folds-file must exist (without one, the data folder's absent folds.csv is made in
    memory: tests/tools/test_png_downloads.py)."""
    root = downloads[0]['competition']
    folds = tmp_path / 'folds.csv'
    proc = call_tool('tools/train.py', TINY, '--data-path', root, '--folds-file', folds, '--work-dir', tmp_path,
                     check=False)
    assert_message(proc, f'{folds} does not exist',
                   f'python tools/make_folds.py --ann {root}/train.csv --out {folds}', '--folds-file')


@pytest.mark.e2e
def test_check_data_takes_the_training_flags(downloads, tmp_path):
    """The pre-flight check builds the data sets as tools/train.py does: data_root as a cfg-option, a folds file
    outside the (read-only) download, the fold. The real
    command lines of make_folds.py and check_data.py (new processes). Without a folds file the folds are made in memory,
logged."""
    root = downloads[0]['competition']
    run_tool('tools/make_folds.py', '--ann', root / 'train.csv', '--n-splits', 3, '--out', tmp_path / 'folds.csv')
    proc = run_tool('tools/check_data.py', TINY, '--cfg-options', f'data_root={root}/', '--folds-file',
                    tmp_path / 'folds.csv', '--fold', 1, '--workers', 1)
    train, val = (int(re.search(rf'{s} (\d+)', proc.stdout).group(1)) for s in ('train', 'val'))
    folds = pd.read_csv(tmp_path / 'folds.csv')
    assert val == (folds['fold'] == 1).sum() and 0 < train <= (folds['fold'] != 1).sum()  # filter_empty_gt
    assert '0 unreadable' in proc.stdout
    proc = call_tool('tools/check_data.py', TINY, '--data-path', root, '--splits', 'train', '--workers', 1)
    assert f'{root}/folds.csv does not exist: 5 folds made in memory' in proc.stdout + proc.stderr


def test_check_data_sizes_pngs_from_size_files_kept_elsewhere(downloads, tmp_path):
    """The PNG set with its size files outside the data folder: --meta-file sizes the training PNGs (as train.py
    --meta-file), --test-meta-file the test PNGs (as test.py --meta-file); without it only the test set is reported."""
    png = downloads[0]['png_dim0_dim1']
    bare = partial_copy(png, tmp_path / 'bare', ['train', 'test', 'train.csv'])
    call_tool('tools/make_folds.py', '--ann', bare / 'train.csv', '--n-splits', 3, '--out', tmp_path / 'folds.csv')
    check = ('tools/check_data.py', TINY, '--data-path', bare, '--folds-file', tmp_path / 'folds.csv', '--workers', 1,
             '--meta-file', png / 'train_meta.csv')
    proc = call_tool(*check, '--test-meta-file', png / 'test_meta.csv')
    assert re.search(r'train \d+, val \d+, test \d+\): 0 unreadable', proc.stdout), proc.stdout
    proc = call_tool(*check, check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert 'test data set' in proc.stderr and 'without an original size' in proc.stderr, proc.stderr[-2000:]
    assert 'train data set' not in proc.stderr and 'val data set' not in proc.stderr


def test_missing_train_csv_and_image_folder(downloads, tmp_path):
    root = downloads[0]['competition']
    no_csv = partial_copy(root, tmp_path / 'no_csv', ['train', 'test'])
    proc = call_tool('tools/train.py', TINY, '--data-path', no_csv, '--folds-file', tmp_path / 'f.csv',
                     '--work-dir', tmp_path / 'w1', check=False)
    assert_message(proc, f'{no_csv}/train.csv does not exist', 'make demo')
    no_images = partial_copy(root, tmp_path / 'no_images', ['train.csv'])
    call_tool('tools/make_folds.py', '--ann', no_images / 'train.csv', '--out', tmp_path / 'folds.csv')
    proc = call_tool('tools/train.py', TINY, '--data-path', no_images, '--folds-file', tmp_path / 'folds.csv',
                     '--work-dir', tmp_path / 'w2', check=False)
    assert_message(proc, f'{no_images}/train/ does not exist', 'tools/prepare_data.py')
    proc = call_tool('tools/make_folds.py', '--ann', no_csv / 'train.csv', '--out', tmp_path / 'x.csv', check=False)
    assert_message(proc, f'{no_csv}/train.csv does not exist')


def test_missing_sizes_of_pngs(downloads, tmp_path, trained):
    work, _, _ = trained
    png = downloads[0]['png_dim0_dim1']
    no_meta = partial_copy(png, tmp_path / 'no_meta', ['train', 'test', 'train.csv', 'train_meta.csv'])
    proc = call_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', no_meta, '--submission',
                     tmp_path / 's.csv', '--work-dir', tmp_path / 'w', check=False)
    assert_message(proc, 'without an original size', f'{no_meta}/test_meta.csv', 'prepare_data.py')
    assert not (tmp_path / 's.csv').exists()
    proc = call_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', png, '--meta-file',
                     tmp_path / 'sizes.csv', '--submission', tmp_path / 's.csv', '--work-dir', tmp_path / 'w',
                     check=False)
    assert_message(proc, f'{tmp_path}/sizes.csv does not exist')


def test_a_leaking_fold_choice_is_refused_before_training(downloads, tmp_path):
    root = downloads[0]['competition']
    call_tool('tools/make_folds.py', '--ann', root / 'train.csv', '--n-splits', 3, '--out', tmp_path / 'folds.csv')
    proc = call_tool('tools/train.py', TINY, '--data-path', root, '--folds-file', tmp_path / 'folds.csv',
                     '--work-dir', tmp_path / 'w', '--cfg-options', 'train_dataloader.dataset.fold=1', check=False)
    assert_message(proc, 'train_dataloader and val_dataloader share', '--fold K')
    assert not list((tmp_path / 'w').glob('*.pth'))


# Records CUDA_VISIBLE_DEVICES at the moment torch is first imported, then runs the tool as `python tool ...`.
WATCH_TORCH = '''
import os, runpy, sys
class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == 'torch' and 'seen' not in Watch.__dict__:
            Watch.seen = os.environ.get('CUDA_VISIBLE_DEVICES')
            print(f'CUDA_VISIBLE_DEVICES at torch import: {Watch.seen!r}', file=sys.stderr, flush=True)
        return None
sys.meta_path.insert(0, Watch())
sys.argv = sys.argv[1:]
sys.path[0] = os.path.dirname(os.path.abspath(sys.argv[0]))  # as `python tool` does
runpy.run_path(sys.argv[0], run_name='__main__')
'''


@pytest.mark.e2e
@pytest.mark.parametrize('tool', ['tools/train.py', 'tools/test.py'])
def test_device_is_chosen_before_torch_is_imported(tool, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != 'CUDA_VISIBLE_DEVICES'}
    extra = ['CKPT'] if tool.endswith('test.py') else []

    def run(device):
        return subprocess.run([sys.executable, '-c', WATCH_TORCH, tool, TINY, *extra, '--data-path',
                               str(tmp_path / 'nowhere'), '--device', device], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=300)
    proc = run('cuda:3')
    assert "CUDA_VISIBLE_DEVICES at torch import: '3'" in proc.stderr
    assert_message(proc, "--device cuda:3: no CUDA device is visible (CUDA_VISIBLE_DEVICES='3'")
    proc = run('cpu')
    assert "CUDA_VISIBLE_DEVICES at torch import: ''" in proc.stderr
    assert_message(proc, f'{tmp_path}/nowhere does not exist')  # went on past the device check, on the CPU


def test_infer_reports_original_pixels_for_pngs_when_sizes_are_known(downloads, trained, tmp_path):
    work, _, _ = trained
    folders, sizes = downloads
    pngs = sorted((folders['png_dim0_dim1'] / 'test').glob('*.png'))[:2]
    lone = tmp_path / 'lone'  # a PNG with no sizes file anywhere near it
    lone.mkdir()
    shutil.copy(pngs[0], lone / 'unknown.png')
    proc = call_tool('tools/infer.py', TINY, work / 'epoch_3.pth', *pngs, lone / 'unknown.png', '--out-dir',
                     tmp_path / 'out', '--score-thr', 0)
    assert 'except 1 image(s) of unknown original size, in their own pixels (give --meta-file)' in proc.stdout
    assert json.loads((tmp_path / 'out' / 'unknown.json').read_text())['pixels'] == 'image'
    for png in pngs:  # test_meta.csv beside test/ gives the original size
        result = json.loads((tmp_path / 'out' / f'{png.stem}.json').read_text())
        assert result['pixels'] == 'original' and (result['width'], result['height']) == sizes[png.stem]
        assert result['image_size'] == [PNG_SIZE, PNG_SIZE]
        assert all(d['box'][2] <= result['width'] and d['box'][3] <= result['height'] for d in result['detections'])
    meta = tmp_path / 'sizes.csv'
    pd.DataFrame([('unknown', 300, 200)], columns=['image_id', 'width', 'height']).to_csv(meta, index=False)
    call_tool('tools/infer.py', TINY, work / 'epoch_3.pth', lone, '--out-dir', tmp_path / 'out2', '--meta-file', meta)
    result = json.loads((tmp_path / 'out2' / 'unknown.json').read_text())
    assert (result['pixels'], result['width'], result['height']) == ('original', 300, 200)


@pytest.mark.parametrize('script, args', [
    ('tools/dist_train.sh', ['CONFIG', '2']),
    ('tools/dist_test.sh', ['CONFIG', 'CKPT', '2']),
    ('tools/slurm_train.sh', ['gpu', 'job', 'CONFIG', 'work_dirs/x']),
    ('tools/slurm_test.sh', ['gpu', 'job', 'CONFIG', 'CKPT'])])
def test_launch_scripts_pass_the_fold_through(script, args, tmp_path):
    """What the dist/slurm scripts start (python and srun faked) gets --fold and --folds-file as given."""
    fake = tmp_path / 'bin'
    fake.mkdir()
    for name in ('srun', 'python'):
        (fake / name).write_text('#!/usr/bin/env bash\necho "RUN $*" >> "$LOG"\n')
        (fake / name).chmod(0o755)
    env = dict(os.environ, PATH=f'{fake}:{os.environ["PATH"]}', PYTHON=str(fake / 'python'),
               LOG=str(tmp_path / 'log'))
    subprocess.run(['bash', script, *args, '--fold', '3', '--folds-file', '/work/folds.csv'], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    line = (tmp_path / 'log').read_text()
    assert re.search(r'tools/(train|test)\.py .*--fold 3 --folds-file /work/folds\.csv', line), line
