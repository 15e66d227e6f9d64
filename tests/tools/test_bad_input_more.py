"""Issue 21 through the tools: each hostile input built as described, one in-process tool call per message;
refused with one message naming the file, line, key or option and the fix (exit 1, nothing trained or written),
or handled and counted."""
import shutil

import numpy as np
import pandas as pd
import pydicom
import pytest

from tests.helpers import TINY, call_tool, refused
from vinbig_mmdet.datasets.annotations import read_annotations
from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.io.convert import convert_folder


def data_copy(demo_root, tmp_path, train_csv: pd.DataFrame):
    """The demo's images (linked) with another train.csv."""
    root = tmp_path / 'data'
    root.mkdir()
    for name in ('train', 'test'):
        (root / name).symlink_to(demo_root / name)
    train_csv.to_csv(root / 'train.csv', index=False)
    return root


def test_train_csv_without_label_columns_is_refused_before_training(demo_root, tmp_path):
    # the plausible export of the issue: image_id,class_name,rad_id; folds made from the original
    kept = pd.read_csv(demo_root / 'train.csv')[['image_id', 'class_name', 'rad_id']]
    root = data_copy(demo_root, tmp_path, kept)
    work = tmp_path / 'work'
    proc = call_tool('tools/train.py', TINY, '--data-path', root, '--folds-file', demo_root / 'folds.csv',
                     '--n-epochs', 1, '--work-dir', work,
                     '--cfg-options', 'train_dataloader.dataset.filter_cfg.filter_empty_gt=False', check=False)
    refused(proc, f'{root}/train.csv: no label columns', 'class_id', 'training needs labels')
    assert not list(work.glob('*.pth')) and 'Epoch(train)' not in proc.stdout + proc.stderr


def test_n_epochs_zero_is_refused(demo_root, tmp_path):
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--n-epochs', 0, '--work-dir',
                     tmp_path / 'w', check=False)
    refused(proc, '--n-epochs 0: must be at least 1')


def test_filter_empty_gt_given_as_a_string_is_refused(demo_root, tmp_path):
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--n-epochs', 1, '--work-dir', tmp_path / 'w',
                     '--cfg-options', 'train_dataloader.dataset.filter_cfg.filter_empty_gt=no', check=False)
    refused(proc, "filter_empty_gt='no' is not True or False")


@pytest.fixture
def submission(demo_root, tmp_path):
    ids = pd.read_csv(demo_root / 'train.csv')['image_id'].unique()
    path = tmp_path / 'sub.csv'
    pd.DataFrame({'image_id': ids, 'PredictionString': '14 1 0 0 1 1'}).to_csv(path, index=False)
    return path


@pytest.mark.parametrize('thr', ['2', 'nan', '0'])
def test_evaluate_submission_refuses_an_iou_threshold_outside_0_1(demo_root, submission, thr):
    proc = call_tool('tools/evaluate_submission.py', submission, demo_root / 'train.csv', '--iou-thr', thr,
                     check=False)
    refused(proc, f'--iou-thr {float(thr)!r}', 'a number in (0, 1]')


def test_inverted_filter_thresholds_are_refused(demo_root, tmp_path):
    probs = tmp_path / 'p.csv'
    probs.write_text('image_id,prob\na,0.5\n')
    proc = call_tool('tools/test.py', TINY, tmp_path / 'none.pth', '--data-path', demo_root, '--abnormal-probs',
                     probs, '--filter-low', '0.9', '--filter-high', '0.1', check=False)
    refused(proc, '--filter-low 0.9 is above --filter-high 0.1', 'low <= high')


def test_old_mac_line_endings_are_read_and_logged(demo_root, tmp_path):
    path = tmp_path / 'train_cr.csv'
    path.write_bytes((demo_root / 'train.csv').read_bytes().replace(b'\r\n', b'\n').replace(b'\n', b'\r'))
    ann = read_annotations(str(path))
    assert len(ann) == len(read_annotations(str(demo_root / 'train.csv')))
    assert ann['line'].iloc[0] == 2


def test_check_data_lists_a_png_pillow_cannot_identify(demo_root, tmp_path):
    from vinbig_mmdet.io import read_image
    root = tmp_path / 'png'
    (root / 'train').mkdir(parents=True)
    ann = pd.read_csv(demo_root / 'train.csv')
    ids = list(ann['image_id'].unique())
    for i in ids:
        gray = read_image(demo_root / 'train' / f'{i}.dicom')
        import cv2
        cv2.imwrite(str(root / 'train' / f'{i}.png'), gray[::2, ::2])
    (root / 'train' / f'{ids[0]}.png').write_bytes(b'GIF89a not really')
    (root / 'train' / f'{ids[1]}.png').write_bytes(b'\0' * 40)
    sizes = [(i, *read_image(demo_root / 'train' / f'{i}.dicom').shape) for i in ids]
    pd.DataFrame(sizes, columns=['image_id', 'dim0', 'dim1']).to_csv(root / 'train_meta.csv', index=False)
    ann.to_csv(root / 'train.csv', index=False)
    shutil.copy(demo_root / 'folds.csv', root / 'folds.csv')
    proc = call_tool('tools/check_data.py', TINY, '--data-path', root, '--splits', 'train', 'val', '--workers', '1',
                     check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    assert f'{ids[0]}.png: not a readable image' in proc.stderr and f'{ids[1]}.png' in proc.stderr


def small_dicoms(folder, rng, n=2):
    folder.mkdir()
    for k in range(n):
        write_dicom(folder / f'img{k}.dicom', rng.integers(0, 4000, (40, 50)).astype(np.uint16))


def test_prepare_data_refuses_size_zero(tmp_path, rng):
    small_dicoms(tmp_path / 'src', rng)
    proc = call_tool('tools/prepare_data.py', '--src', tmp_path / 'src', '--out', tmp_path / 'out', '--size', 0,
                     check=False)
    refused(proc, '--size 0', 'at least 1')
    assert not (tmp_path / 'out').exists()


def test_a_truncated_png_listed_in_meta_csv_is_converted_again(tmp_path, rng):
    small_dicoms(tmp_path / 'src', rng)
    out = tmp_path / 'out'
    convert_folder(str(tmp_path / 'src'), str(out), size=32, workers=1, progress=False)
    good = (out / 'img0.png').read_bytes()
    (out / 'img0.png').write_bytes(good[:len(good) // 2])  # an interrupted copy
    summary = convert_folder(str(tmp_path / 'src'), str(out), size=32, workers=1, progress=False)
    assert (summary['damaged'], summary['converted'], summary['skipped']) == (1, 1, 1)
    assert (out / 'img0.png').read_bytes() == good


def test_infer_lists_a_dicom_with_bad_display_attributes_and_goes_on(trained, demo_root, tmp_path):
    work, _, _ = trained
    folder = tmp_path / 'in'
    folder.mkdir()
    good = sorted((demo_root / 'test').glob('*.dicom'))[0]
    shutil.copy(good, folder / good.name)
    ds = pydicom.dcmread(good)
    ds.WindowCenter, ds.WindowWidth = 100, 0
    ds.save_as(folder / 'ww0.dicom')
    proc = call_tool('tools/infer.py', TINY, work / 'epoch_3.pth', folder, '--out-dir', tmp_path / 'out',
                     check=False)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    assert 'FAILED: ' in proc.stderr and 'ww0.dicom: WindowWidth = 0' in proc.stderr
    assert (tmp_path / 'out' / f'{good.stem}.json').is_file()


def test_a_training_set_left_empty_by_the_fold_is_refused(demo_root, tmp_path):
    ids = pd.read_csv(demo_root / 'train.csv')['image_id'].unique()
    folds = tmp_path / 'folds.csv'
    pd.DataFrame({'image_id': ids, 'fold': 1}).to_csv(folds, index=False)
    work = tmp_path / 'work'
    proc = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--folds-file', folds, '--fold', 1,
                     '--n-epochs', 1, '--work-dir', work, check=False)
    refused(proc, 'fold 1 train: no training images left after the fold selection of', str(folds), '--n-splits')
    assert not list(work.glob('*.pth'))
