"""Bad input as a user sends it, through the real tools: one message naming the file (line, key, checkpoint) and
the fix, exit status 1, no traceback, and nothing that looks like a result."""
import shutil

import pandas as pd
import pytest
import torch

from tests.helpers import TINY, call_tool, refused


@pytest.fixture
def demo_copy(demo_root, tmp_path):
    """A writable copy of the demo data set (the tests below break parts of it)."""
    return shutil.copytree(demo_root, tmp_path / 'demo')


def test_train_csv_missing_a_box_column_is_not_an_image_list(demo_copy, tmp_path):
    ann = pd.read_csv(demo_copy / 'train.csv', dtype=str)
    ann.drop(columns='x_max').to_csv(demo_copy / 'train.csv', index=False)
    work = tmp_path / 'work'
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_copy, '--work-dir', work, check=False)
    refused(proc, demo_copy / 'train.csv', "['x_max']")
    assert not list(work.glob('**/*.pth'))  # no "best" checkpoint of a model trained on zero boxes


def with_state_dict(src, dst, edit):
    ckpt = torch.load(src, map_location='cpu')
    ckpt['state_dict'] = edit(ckpt['state_dict'])
    torch.save(ckpt, dst)
    return dst


def other_class_count(state):
    state = dict(state)
    state['roi_head.bbox_head.fc_cls.weight'] = torch.zeros(81, state['roi_head.bbox_head.fc_cls.weight'].shape[1])
    state['roi_head.bbox_head.fc_cls.bias'] = torch.zeros(81)
    return state


def test_checkpoint_of_another_model_is_refused(trained, demo_root, tmp_path):
    work, _, _ = trained
    ckpt = work / 'epoch_3.pth'
    other = with_state_dict(ckpt, tmp_path / 'coco_80.pth', other_class_count)
    proc = call_tool('tools/test.py', TINY, other, '--data-path', demo_root, '--val', '--work-dir', tmp_path / 'a',
                     check=False)
    refused(proc, other, 'roi_head.bbox_head.fc_cls.weight: checkpoint (81, 1024), model (15, 1024)',
            '--allow-partial')
    assert 'VinBigData mAP@0.4' not in proc.stdout + proc.stderr  # no score from random weights
    sub = tmp_path / 'sub.csv'
    proc = call_tool('tools/test.py', TINY, other, '--data-path', demo_root, '--submission', sub, '--tta',
                     '--work-dir', tmp_path / 'b', check=False)
    refused(proc, other)  # the TTA wrapper is checked like the bare model
    assert not sub.exists()
    proc = call_tool('tools/test.py', TINY, other, '--data-path', demo_root, '--submission', sub, '--allow-partial',
                     '--work-dir', tmp_path / 'c')
    assert '--allow-partial: loading only what fits' in proc.stdout + proc.stderr and sub.is_file()

    unrelated = with_state_dict(ckpt, tmp_path / 'unrelated.pth', lambda s: {'encoder.weight': torch.zeros(3)})
    proc = call_tool('tools/infer.py', TINY, unrelated, demo_root / 'test', '--out-dir', tmp_path / 'infer',
                     check=False)
    refused(proc, unrelated, 'has no weight of this model')
    assert not (tmp_path / 'infer').exists()
    proc = call_tool('tools/infer.py', TINY, other, sorted((demo_root / 'test').glob('*.dicom'))[0],
                     '--out-dir', tmp_path / 'infer', check=False)
    refused(proc, other, 'fc_cls')


def test_truncated_checkpoint_is_one_message(trained, demo_root, tmp_path):
    work, _, _ = trained
    data = (work / 'epoch_3.pth').read_bytes()
    cut = tmp_path / 'epoch_9.pth'
    cut.write_bytes(data[:len(data) // 3])
    proc = call_tool('tools/test.py', TINY, cut, '--data-path', demo_root, '--val', '--work-dir', tmp_path / 't',
                     check=False)
    refused(proc, cut, 'not a complete checkpoint')
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', tmp_path / 'w', '--resume', cut,
                     check=False)
    refused(proc, cut, 'not a complete checkpoint')


def write_submission_csv(path, rows):
    pd.DataFrame(rows, columns=['image_id', 'PredictionString']).to_csv(path, index=False)
    return path


def test_invalid_submission_values_stop_scoring_and_ensembling(demo_root, tmp_path):
    truth = pd.read_csv(demo_root / 'test_annotations.csv', dtype={'image_id': str})
    ids = list(dict.fromkeys(truth['image_id']))
    nan = write_submission_csv(tmp_path / 'nan.csv', [(i, 'nan nan nan nan nan nan') for i in ids])
    proc = call_tool('tools/evaluate_submission.py', nan, demo_root / 'test_annotations.csv', check=False)
    refused(proc, f'{nan} line 2', 'not a finite number')
    assert 'mAP' not in proc.stdout  # an all-nan submission used to score 1.0

    good = write_submission_csv(tmp_path / 'good.csv', [(i, '3 0.9 10 10 50 60 14 0.1 0 0 1 1') for i in ids])
    bad = write_submission_csv(tmp_path / 'bad.csv', [(i, '3 0.9 10 10 50 60') for i in ids[:-1]] +
                               [(ids[-1], '3.7 0.5 10 10 50 60')])
    out = tmp_path / 'fused.csv'
    proc = call_tool('tools/ensemble.py', good, bad, '--out', out, check=False)
    refused(proc, f'{bad} line {len(ids) + 1}', 'class 3.7 is not an integer')
    assert not out.exists()
    proc = call_tool('tools/ensemble.py', good, good, '--out', out, '--iou-thr', 4, check=False)
    refused(proc, 'iou_thr=4.0 is not a number in (0, 1]')


@pytest.mark.e2e
def test_check_data_and_a_bad_image_met_in_training(demo_copy, tmp_path):
    folds = pd.read_csv(demo_copy / 'folds.csv', dtype={'image_id': str})
    ann = pd.read_csv(demo_copy / 'train.csv', dtype={'image_id': str})
    abnormal = set(ann.loc[ann['class_id'] != 14, 'image_id'])
    victim = sorted(i for i in folds.loc[folds['fold'] != 0, 'image_id'] if i in abnormal)[0]  # trained on
    path = demo_copy / 'train' / f'{victim}.dicom'
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])  # a download that stopped half way

    proc = call_tool('tools/check_data.py', TINY, '--data-path', demo_copy, '--workers', 2, check=False)
    refused(proc, f'{path}:')
    assert proc.stderr.count('FAILED') == 1 and '1 unreadable' in proc.stdout
    proc = call_tool('tools/check_data.py', TINY, '--data-path', demo_copy, '--splits', 'test', '--cfg-options',
                     'test_dataloader.dataset.fusion.iou_thresh=0.9', check=False)
    refused(proc, "unknown key(s) ['iou_thresh']", "accepted keys: ['type', 'iou_thr', 'skip_box_thr']")

    # the stated policy: training stops at the first bad image, naming it, also from a DataLoader worker
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_copy, '--work-dir', tmp_path / 'w', '--n-workers', 1,
                     check=False)
    refused(proc, f'error: {path}: ', 'tools/check_data.py')
    assert 'DataLoader worker' not in proc.stderr


def test_analysis_without_readers_says_so(demo_root, tmp_path):
    ann = pd.read_csv(demo_root / 'train.csv', dtype=str).drop(columns='rad_id')
    ann.to_csv(tmp_path / 'consensus.csv', index=False)
    proc = call_tool('tools/analyze_annotations.py', tmp_path / 'consensus.csv', '--out-dir', tmp_path / 'ana')
    assert 'no readers' in proc.stdout and '1 readers' not in proc.stdout
    agreement = [line for line in proc.stdout.splitlines() if line.strip().startswith(('0 ', '3 '))]
    assert agreement and all(line.split()[-1] == 'NaN' for line in agreement)  # not 0.0


@pytest.mark.parametrize('content, message', [
    (b'', 'the file is empty'),
    (b'image_id,PredictionString\n', 'only a header line'),
    ('image_id,PredictionString\nimage_\xe9,14 1 0 0 1 1\n'.encode('latin-1'), 'line 2 is not UTF-8'),
    ('image_id,PredictionString\nabc,14 1 0 0 1 1\n'.encode('utf-16'), 'UTF-16'),
])
def test_unreadable_csv_is_one_message(demo_root, tmp_path, content, message):
    sub = tmp_path / 'submission.csv'
    sub.write_bytes(content)
    proc = call_tool('tools/evaluate_submission.py', sub, demo_root / 'test_annotations.csv', check=False)
    refused(proc, sub, message)


def test_blank_lines_do_not_shift_line_numbers(tmp_path):
    truth = tmp_path / 'truth.csv'
    truth.write_text('image_id,class_name,class_id,rad_id,x_min,y_min,x_max,y_max\n'
                     'a,Cardiomegaly,3,R1,10,10,50,50\n'
                     'b,No finding,14,R1,,,,\n'
                     '\n'
                     '\n'
                     'c,Cardiomegaly,15,R1,10,10,50,50\n')  # line 6: an unknown class
    sub = write_submission_csv(tmp_path / 'sub.csv', [('a', '14 1 0 0 1 1')])
    proc = call_tool('tools/evaluate_submission.py', sub, truth, check=False)
    refused(proc, truth, 'line 6')
