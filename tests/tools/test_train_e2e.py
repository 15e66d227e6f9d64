"""The real command-line tools end to end on CPU: train, validate, resume, test, submit, score, infer, ensemble."""
import json

import pandas as pd

from tests.helpers import TINY, call_tool, run_tool, scalars


def test_train_validates_every_epoch_and_keeps_the_best(trained):
    work, _, _ = trained
    assert all((work / f'epoch_{e}.pth').is_file() for e in (1, 2, 3))
    assert list(work.glob('best_vinbig_mAP_epoch_*.pth'))
    maps = [s for s in scalars(work) if 'vinbig/mAP' in s]
    assert [s['step'] for s in maps] == [1, 2, 3]
    assert all(0 <= s['vinbig/mAP'] <= 1 for s in maps)


def test_resume_continues_from_the_last_checkpoint(trained):
    work, _, resumed_log = trained
    assert 'resumed epoch: 2' in resumed_log
    assert (work / 'last_checkpoint').read_text().strip().endswith('epoch_3.pth')
    assert 'Epoch(train) [1]' not in resumed_log  # nothing trained twice


def test_val_metric_and_submission_in_original_pixels(trained, demo_root, tmp_path):
    work, _, _ = trained
    ckpt = work / 'epoch_3.pth'
    # the real command lines (new processes) for test.py, evaluate_submission.py and ensemble.py; in-process elsewhere
    proc = run_tool('tools/test.py', TINY, ckpt, '--data-path', demo_root, '--val', '--work-dir', tmp_path / 'v')
    assert 'VinBigData mAP@0.4' in proc.stdout + proc.stderr

    sub = tmp_path / 'submission.csv'
    call_tool('tools/test.py', TINY, ckpt, '--data-path', demo_root, '--submission', sub, '--work-dir', tmp_path)
    rows = pd.read_csv(sub, dtype={'image_id': str})
    expected = pd.read_csv(demo_root / 'sample_submission.csv', dtype={'image_id': str})['image_id']
    assert sorted(rows['image_id']) == sorted(expected)  # every test image exactly once
    sizes = {f.stem: f for f in (demo_root / 'test').glob('*.dicom')}
    import pydicom
    for img_id, text in zip(rows['image_id'], rows['PredictionString']):
        values = [float(v) for v in text.split()]
        assert len(values) % 6 == 0 and 14 in values[0::6]  # "No finding" entry on every row
        ds = pydicom.dcmread(sizes[img_id], stop_before_pixels=True)
        for k in range(0, len(values), 6):
            assert 0 <= values[k + 2] <= values[k + 4] <= ds.Columns and 0 <= values[k + 3] <= ds.Rows

    # the same submission scored offline against the demo's test truth, and TTA + the 2-class filter
    out_json = tmp_path / 'score.json'
    proc = run_tool('tools/evaluate_submission.py', sub, demo_root / 'test_annotations.csv', '--json', out_json)
    score = json.loads(out_json.read_text())
    assert f'mAP@0.4: {score["mAP"]:.4f}' in proc.stdout
    probs = tmp_path / 'probs.csv'
    pd.DataFrame({'image_id': rows['image_id'], 'prob': 0.01}).to_csv(probs, index=False)
    tta_sub = tmp_path / 'tta.csv'
    proc = call_tool('tools/test.py', TINY, ckpt, '--data-path', demo_root, '--submission', tta_sub, '--tta',
                     '--abnormal-probs', probs, '--work-dir', tmp_path)
    assert 'mAP@0.4' not in proc.stdout + proc.stderr  # the TTA pipeline loads no ground truth for test images
    filtered = pd.read_csv(tta_sub)
    assert set(filtered['PredictionString']) == {'14 1 0 0 1 1'}  # every image called normal by the filter

    fused = tmp_path / 'fused.csv'
    run_tool('tools/ensemble.py', sub, sub, '--out', fused)
    assert sorted(pd.read_csv(fused, dtype={'image_id': str})['image_id']) == sorted(expected)


def test_tta_keeps_every_image(trained, demo_root, tmp_path):
    work, _, _ = trained
    sub = tmp_path / 'tta.csv'
    proc = call_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', demo_root, '--val', '--tta',
                     '--tta-scales', 128, '--submission', sub, '--work-dir', tmp_path)
    assert 'VinBigData mAP@0.4' in proc.stdout + proc.stderr
    folds = pd.read_csv(demo_root / 'folds.csv', dtype={'image_id': str})
    assert sorted(pd.read_csv(sub, dtype={'image_id': str})['image_id']) == \
        sorted(folds.loc[folds['fold'] == 0, 'image_id'])


def test_infer_writes_json_and_png(trained, demo_root, tmp_path):
    work, _, _ = trained
    files = sorted((demo_root / 'test').glob('*.dicom'))[:2]
    bad = tmp_path / 'broken.dicom'
    bad.write_bytes(b'garbage')
    proc = run_tool('tools/infer.py', TINY, work / 'epoch_3.pth', *files, bad, '--out-dir', tmp_path / 'out',
                    '--score-thr', 0.0, check=False)
    assert proc.returncode == 1 and 'broken.dicom' in proc.stderr  # the bad file is reported, the rest done
    import cv2
    for f in files:
        result = json.loads((tmp_path / 'out' / f'{f.stem}.json').read_text())
        assert result['image_id'] == f.stem and result['width'] > 0
        for d in result['detections']:
            assert 0 <= d['box'][0] <= d['box'][2] <= result['width'] and d['class_name']
        png = cv2.imread(str(tmp_path / 'out' / f'{f.stem}.png'))
        assert png is not None and png.shape[2] == 3


def test_missing_data_folder_says_what_to_do(tmp_path):
    proc = call_tool('tools/train.py', TINY, '--data-path', tmp_path / 'nowhere', '--work-dir', tmp_path / 'w',
                     check=False)
    assert proc.returncode != 0
    assert 'does not exist' in proc.stderr and 'make demo' in proc.stderr


def test_show_dir_draws_every_dicom(trained, demo_root, tmp_path):
    work, _, _ = trained
    call_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', demo_root, '--show-dir', tmp_path / 'show',
              '--work-dir', tmp_path / 'w')
    import cv2
    ids = sorted(pd.read_csv(demo_root / 'sample_submission.csv', dtype={'image_id': str})['image_id'])
    assert sorted(p.stem for p in (tmp_path / 'show').glob('*.png')) == ids
    assert cv2.imread(str(next((tmp_path / 'show').glob('*.png')))).shape[2] == 3
