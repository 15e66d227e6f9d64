"""A tiny train + validate + resume + test on CPU, through the real command-line tools."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = str(Path(__file__).with_name('tiny_r18.py'))


def run_tool(*args, check=True):
    env = dict(os.environ, PYTHONUNBUFFERED='1', CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


def scalars(work_dir):
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


@pytest.mark.slow
def test_train_validate_resume_and_test(demo_root, tmp_path):
    work = tmp_path / 'work'
    run_tool('tools/train.py', TINY, '--data-path', str(demo_root), '--work-dir', str(work))
    assert (work / 'epoch_1.pth').is_file() and (work / 'epoch_2.pth').is_file()
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_2.pth')
    assert list(work.glob('best_vinbig_mAP_epoch_*.pth'))
    maps = [s['vinbig/mAP'] for s in scalars(work) if 'vinbig/mAP' in s]
    assert len(maps) == 2 and all(0 <= m <= 1 for m in maps)

    # resume from the work dir's last checkpoint and train one more epoch (original-script flags)
    proc = run_tool('tools/train.py', TINY, '--data-path', str(demo_root), '--save-path', str(work),
                    '--resume', '--n-epochs', '3')
    assert 'resumed epoch: 2' in proc.stdout + proc.stderr
    assert (work / 'epoch_3.pth').is_file()
    assert [s['step'] for s in scalars(work) if 'vinbig/mAP' in s][-1] == 3

    # the metric on the labelled validation fold
    ckpt = str(work / 'epoch_3.pth')
    proc = run_tool('tools/test.py', TINY, ckpt, '--data-path', str(demo_root), '--val',
                    '--work-dir', str(tmp_path / 'val'))
    assert 'VinBigData mAP@0.4' in proc.stdout + proc.stderr

    # a Kaggle submission for the test images: every image exactly once, boxes in original pixels
    sub = tmp_path / 'submission.csv'
    run_tool('tools/test.py', TINY, ckpt, '--data-path', str(demo_root), '--submission', str(sub),
             '--work-dir', str(tmp_path / 'test'))
    rows = pd.read_csv(sub, dtype={'image_id': str})
    expected = pd.read_csv(demo_root / 'sample_submission.csv', dtype={'image_id': str})['image_id']
    assert sorted(rows['image_id']) == sorted(expected)
    for text in rows['PredictionString']:
        values = text.split()
        assert len(values) % 6 == 0 and '14' in values[0::6]  # a "No finding" entry on every row


def test_missing_data_folder_says_what_to_do(tmp_path):
    proc = run_tool('tools/train.py', TINY, '--data-path', str(tmp_path / 'nowhere'), '--work-dir',
                    str(tmp_path / 'w'), check=False)
    assert proc.returncode != 0
    assert 'does not exist' in proc.stderr and 'make demo' in proc.stderr
