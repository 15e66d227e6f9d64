"""Cascade R-CNN and TOOD through the real tools at a tiny size: train, validate, submit, and fuse with the
Faster R-CNN by tools/ensemble.py."""
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import TINY, call_tool, scalars
from vinbig_mmdet.evaluation import read_submission

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
TINY_CONFIGS = {'cascade': str(HERE / 'tiny_cascade_r18.py'), 'tood': str(HERE / 'tiny_tood_r18.py')}


@pytest.fixture(scope='module')
def stronger(demo_root, tmp_path_factory):
    """Each stronger detector trained briefly (with validation) and its test-set submission."""
    out = {}
    for name, config in TINY_CONFIGS.items():
        work = tmp_path_factory.mktemp(name)
        log = call_tool('tools/train.py', config, '--data-path', demo_root, '--work-dir', work)
        ckpt = (work / 'last_checkpoint').read_text().strip()
        sub = work / 'submission.csv'
        call_tool('tools/test.py', config, ckpt, '--data-path', demo_root, '--submission', sub, '--work-dir', work)
        out[name] = (work, log.stdout + log.stderr, sub)
    yield out
    for work, _, _ in out.values():
        shutil.rmtree(work, ignore_errors=True)  # their checkpoints are not needed past this module


@pytest.mark.parametrize('name', sorted(TINY_CONFIGS))
def test_trains_and_validates(stronger, name):
    work, log, _ = stronger[name]
    maps = [s for s in scalars(work) if 'vinbig/mAP' in s]
    assert maps and 0 <= maps[-1]['vinbig/mAP'] <= 1
    losses = [s['loss'] for s in scalars(work) if 'loss' in s]
    assert losses and all(loss == loss for loss in losses)  # finite, logged every 2 iterations
    assert list(work.glob('best_vinbig_mAP_epoch_*.pth'))


def test_ensemble_fuses_all_three(stronger, trained, demo_root, tmp_path):
    faster_work, _, _ = trained
    faster = tmp_path / 'faster.csv'
    call_tool('tools/test.py', TINY, faster_work / 'epoch_3.pth', '--data-path', demo_root, '--submission', faster,
              '--work-dir', tmp_path)
    subs = [faster, stronger['cascade'][2], stronger['tood'][2]]
    fused = tmp_path / 'fused.csv'
    proc = call_tool('tools/ensemble.py', *subs, '--out', fused, '--weights', 1, 1, 1)
    assert 'fused 3 submissions' in proc.stdout
    test_ids = sorted(pd.read_csv(demo_root / 'sample_submission.csv', dtype={'image_id': str})['image_id'])
    result = read_submission(str(fused))
    assert sorted(result) == test_ids
    inputs = [read_submission(str(s)) for s in subs]
    for sub in inputs:
        assert sorted(sub) == test_ids
    # every model contributed: WBF keeps every cluster, so each image keeps every class any model found there
    for img_id in test_ids:
        fused_classes = set(result[img_id][2].tolist())
        for sub in inputs:
            assert set(sub[img_id][2].tolist()) <= fused_classes, img_id
    for sub in inputs:  # and the result is none of the inputs
        assert any(len(sub[i][1]) != len(result[i][1]) or not np.allclose(sub[i][1], result[i][1])
                   for i in test_ids)
