"""The image classifier through the real tools: train, write probabilities for a fold and the test images, and
feed them to the 2-class filter of tools/test.py and tools/ensemble.py."""
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import TINY, call_tool, run_tool, scalars

pytestmark = pytest.mark.e2e

CLASSIFIER = str(Path(__file__).with_name('tiny_classifier_r18.py'))


@pytest.fixture(scope='module')
def classifier(demo_root, tmp_path_factory):
    work = tmp_path_factory.mktemp('classifier')
    proc = call_tool('tools/train.py', CLASSIFIER, '--data-path', demo_root, '--work-dir', work)
    yield work, proc.stdout + proc.stderr
    shutil.rmtree(work, ignore_errors=True)  # its checkpoints are not needed past this module


def test_classifier_trains_through_train_py(classifier):
    work, log = classifier
    aucs = [s for s in scalars(work) if 'abnormal/AUC' in s]
    assert [s['step'] for s in aucs] == [1, 2]
    assert all(0 <= s['abnormal/AUC'] <= 1 for s in aucs)
    assert list(work.glob('best_abnormal_AUC_epoch_*.pth'))
    assert 'Abnormality classifier on 8 images' in log  # fold 0 of the 24-image demo


def test_probabilities_for_a_fold_and_the_test_images(classifier, demo_root, tmp_path):
    work, _ = classifier
    ckpt = work / 'epoch_2.pth'
    folds = pd.read_csv(demo_root / 'folds.csv', dtype={'image_id': str})
    for fold in (0, 1):
        out = tmp_path / f'val{fold}.csv'
        proc = call_tool('tools/predict_abnormal.py', CLASSIFIER, ckpt, '--data-path', demo_root, '--val',
                         '--fold', fold, '--out', out, '--work-dir', tmp_path / 'w')
        assert f'on fold {fold}; probabilities -> {out}' in proc.stdout and 'AUC ' in proc.stdout
        probs = pd.read_csv(out, dtype={'image_id': str})
        assert list(probs.columns) == ['image_id', 'prob']
        assert sorted(probs['image_id']) == sorted(folds.loc[folds['fold'] == fold, 'image_id'])
        assert probs['prob'].between(0, 1).all()

    out = tmp_path / 'test.csv'
    run_tool('tools/predict_abnormal.py', CLASSIFIER, ckpt, '--data-path', demo_root, '--out', out,
             '--work-dir', tmp_path / 'w')
    probs = pd.read_csv(out, dtype={'image_id': str})
    expected = pd.read_csv(demo_root / 'sample_submission.csv', dtype={'image_id': str})['image_id']
    assert sorted(probs['image_id']) == sorted(expected)


def test_filter_fed_by_the_classifier_changes_the_submission(classifier, trained, demo_root, tmp_path):
    work, _ = classifier
    probs = tmp_path / 'probs.csv'
    call_tool('tools/predict_abnormal.py', CLASSIFIER, work / 'epoch_2.pth', '--data-path', demo_root,
              '--out', probs, '--work-dir', tmp_path / 'w')
    faster_work, _, _ = trained
    plain, filtered = tmp_path / 'plain.csv', tmp_path / 'filtered.csv'
    for sub, extra in ((plain, []), (filtered, ['--abnormal-probs', probs, '--filter-low', 0.0,
                                                '--filter-high', 1])):
        call_tool('tools/test.py', TINY, faster_work / 'epoch_3.pth', '--data-path', demo_root, '--submission', sub,
                  '--work-dir', tmp_path / 'w', *extra)
    p = dict(pd.read_csv(probs, dtype={'image_id': str}).itertuples(index=False))
    rows = dict(pd.read_csv(filtered, dtype={'image_id': str}).itertuples(index=False))
    plain_rows = dict(pd.read_csv(plain, dtype={'image_id': str}).itertuples(index=False))
    # between the thresholds (0 <= p < 1) the detections stay and "No finding" is scored 1 - p; at p = 1 (above)
    # the image keeps its detections as they were
    for img_id, text in rows.items():
        values = text.split()
        no_finding = [float(values[k + 1]) for k in range(0, len(values), 6) if values[k] == '14']
        if p[img_id] < 1:
            assert no_finding == [pytest.approx(1 - p[img_id], abs=1e-4)]
        else:
            assert text == plain_rows[img_id]
    assert rows != plain_rows

    fused = tmp_path / 'fused.csv'
    call_tool('tools/ensemble.py', plain, plain, '--out', fused, '--abnormal-probs', probs, '--filter-low', 0.0,
              '--filter-high', 1)
    assert dict(pd.read_csv(fused, dtype={'image_id': str}).itertuples(index=False)).keys() == rows.keys()


def test_predict_abnormal_refuses_what_it_cannot_do(classifier, demo_root, tmp_path):
    work, _ = classifier
    ckpt = work / 'epoch_2.pth'
    cases = [
        ((TINY, ckpt, '--out', tmp_path / 'a.csv'), 'not an image classifier'),
        ((CLASSIFIER, tmp_path / 'missing.pth', '--out', tmp_path / 'b.csv'), 'missing.pth does not exist'),
        ((CLASSIFIER, ckpt, '--fold', 1, '--out', tmp_path / 'c.csv'), 'use it with --val'),
    ]
    for args, message in cases:
        proc = call_tool('tools/predict_abnormal.py', *args, '--data-path', demo_root, check=False)
        assert proc.returncode == 1 and message in proc.stderr and 'Traceback' not in proc.stderr
        assert not list(tmp_path.glob('*.csv'))  # nothing written


def test_two_class_filter_benchmark_runs(classifier, trained, demo_root, tmp_path):
    """benchmarks/bench_two_class_filter.py on the tiny stand-ins and their checkpoints (docs/benchmarks.md runs it
    on the demo configs, training them)."""
    work, _ = classifier
    faster_work, _, _ = trained
    # two detectors (as for training seeds): every figure is their mean, the filter's effect is judged by the spread
    proc = call_tool('benchmarks/bench_two_class_filter.py', '--data', demo_root, '--work-dir', tmp_path,
                     '--detector-config', TINY, '--detector-ckpt', faster_work / 'epoch_3.pth',
                     faster_work / 'epoch_1.pth', '--classifier-config', CLASSIFIER,
                     '--classifier-ckpt', work / 'epoch_2.pth')
    out = proc.stdout
    assert 'test images' in out and 'AUC' in out
    assert 'spread over the 2 detectors' in out and '(2 detectors)' in out
    rows = {line[:48].strip(): line[48:].split() for line in out.splitlines()[-4:]}
    assert set(rows) == {'no filter', "filter, the project's classifier", 'filter, a perfect classifier (ceiling)',
                         'chance (every image "No finding")'}
    scores = {k: float(v[0]) for k, v in rows.items()}
    assert all(0 <= s <= 1 for s in scores.values())
    assert scores['filter, a perfect classifier (ceiling)'] >= scores['no filter'] - 1e-9
