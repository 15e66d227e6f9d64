"""Out-of-fold workflow: tools/test.py --val --fold K --submission oof_K.csv, per-fold and combined CV scores with
tools/evaluate_submission.py, and a weight search on OOF files with tools/ensemble.py --tune."""
import json

import numpy as np
import pandas as pd
import pytest

from tests.helpers import TINY, assert_message, call_tool
from vinbig_mmdet.evaluation import format_prediction_string, kaggle_map, read_submission, write_submission
from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv

pytestmark = pytest.mark.e2e


def fold_ids(demo_root, k):
    folds = pd.read_csv(demo_root / 'folds.csv', dtype={'image_id': str})
    return set(folds.loc[folds['fold'] == k, 'image_id'])


@pytest.fixture(scope='module')
def oof_files(trained, demo_root, tmp_path_factory):
    work, _, _ = trained
    out = tmp_path_factory.mktemp('oof')
    files = []
    for k in (0, 1):
        files.append(out / f'oof_{k}.csv')
        proc = call_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', demo_root, '--val', '--fold', k,
                         '--submission', files[-1], '--work-dir', out / f'w{k}')
        assert 'VinBigData mAP@0.4' in proc.stdout + proc.stderr
    return files


def test_test_tool_writes_each_folds_oof_predictions(oof_files, demo_root):
    for k, oof in enumerate(oof_files):
        assert set(read_submission(str(oof))) == fold_ids(demo_root, k)


def test_one_oof_file_is_scored_on_its_own_images(oof_files, demo_root, tmp_path):
    train_csv = demo_root / 'train.csv'
    expected = kaggle_map(read_submission(str(oof_files[0])),
                          ground_truth_from_csv(str(train_csv), image_ids=fold_ids(demo_root, 0)))['mAP']
    proc = call_tool('tools/evaluate_submission.py', oof_files[0], train_csv, '--json', tmp_path / 's.json')
    assert 'WARNING' not in proc.stderr  # the other folds' images are not counted as missed
    assert f'scored {len(fold_ids(demo_root, 0))} images: the images the submission(s) cover' in proc.stdout
    assert json.loads((tmp_path / 's.json').read_text())['mAP'] == pytest.approx(expected)
    proc = call_tool('tools/evaluate_submission.py', oof_files[0], train_csv, '--folds-file', demo_root / 'folds.csv',
                     '--fold', 0)
    assert f'mAP@0.4: {expected:.4f}' in proc.stdout


def test_several_oof_files_give_the_combined_cv_score(oof_files, demo_root):
    train_csv = demo_root / 'train.csv'
    union = {**read_submission(str(oof_files[0])), **read_submission(str(oof_files[1]))}
    combined = kaggle_map(union, ground_truth_from_csv(str(train_csv), image_ids=set(union)))['mAP']
    proc = call_tool('tools/evaluate_submission.py', *oof_files, train_csv)
    assert f'combined CV mAP@0.4: {combined:.4f}' in proc.stdout
    assert 'combined CV' in proc.stdout.splitlines()[1] and 'oof_1.csv' in proc.stdout.splitlines()[1]
    proc = call_tool('tools/evaluate_submission.py', oof_files[0], oof_files[0], train_csv, check=False)
    assert_message(proc, 'both have image', str(oof_files[0]))


def test_ensemble_tune_finds_the_better_model(demo_root, tmp_path):
    """Model A predicts the truth, model B confident noise; A's OOF comes in two fold files."""
    truth = ground_truth_from_csv(str(demo_root / 'train.csv'))
    rng = np.random.default_rng(0)
    good, bad = {}, {}
    for img_id, (boxes, labels) in truth.items():
        good[img_id] = format_prediction_string(np.concatenate([boxes, [[0, 0, 1, 1]]]),
                                                [0.9] * len(boxes) + [0.1 if len(boxes) else 1.0],
                                                list(labels) + [14])
        xy = rng.uniform(0, 100, (3, 2))
        bad[img_id] = format_prediction_string(np.concatenate([xy, xy + 50], axis=1), [0.95] * 3,
                                               rng.integers(0, 14, 3))
    fold0 = fold_ids(demo_root, 0)
    paths = [tmp_path / n for n in ('a_0.csv', 'a_rest.csv', 'b.csv')]
    write_submission(str(paths[0]), ((i, s) for i, s in good.items() if i in fold0))
    write_submission(str(paths[1]), ((i, s) for i, s in good.items() if i not in fold0))
    write_submission(str(paths[2]), bad.items())
    proc = call_tool('tools/ensemble.py', f'{paths[0]},{paths[1]}', paths[2], '--tune', '--ground-truth',
                     demo_root / 'train.csv', '--tune-weights', 0, 1, 2, '--out', tmp_path / 'best.csv')
    assert 'best: --weights 1 0 --iou-thr 0.4 -> OOF mAP@0.4 1.0000' in proc.stdout, proc.stdout
    assert set(read_submission(str(tmp_path / 'best.csv'))) == set(truth)
    proc = call_tool('tools/ensemble.py', paths[0], paths[2], '--tune', check=False)
    assert_message(proc, '--tune needs --ground-truth')
