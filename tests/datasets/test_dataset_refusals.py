"""VinBigDataset refuses what would train or score silently wrong (issue 21): no labels, sizes that disagree,
duplicate lines in sizes and folds files, options of the wrong type, an empty training set."""
import numpy as np
import pandas as pd
import pytest

from tests.datasets.test_vinbig_dataset import ROWS, H, W, build, write_pngs
from tests.helpers import write_csv
from vinbig_mmdet.datasets import AnnotationError
from vinbig_mmdet.datasets.annotations import read_sizes
from vinbig_mmdet.datasets.folds import read_folds
from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.errors import InputError


@pytest.fixture
def root(tmp_path, rng):
    (tmp_path / 'train').mkdir()
    for img_id in ('img_a', 'img_b', 'img_c'):
        write_dicom(tmp_path / 'train' / f'{img_id}.dicom', rng.integers(0, 4096, (H, W)).astype(np.uint16))
    write_csv(tmp_path / 'train.csv', ROWS)
    write_csv(tmp_path / 'folds.csv', [('img_a', 0), ('img_b', 1), ('img_c', 1)], ['image_id', 'fold'])
    return tmp_path


def test_training_and_validation_without_label_columns_are_refused(root):
    # a plausible export: image_id, class_name, rad_id only
    pd.read_csv(root / 'train.csv')[['image_id', 'class_name', 'rad_id']].to_csv(root / 'nolabels.csv', index=False)
    for kwargs in (dict(), dict(folds_file='folds.csv', fold=0, split='val', test_mode=True)):
        with pytest.raises(AnnotationError, match=r'nolabels.csv: no label columns .*class_id.*needs labels'):
            build(root, ann_file='nolabels.csv', **kwargs)
    assert len(build(root, ann_file='nolabels.csv', test_mode=True)) == 3  # testing unlabelled images is fine


def test_sizes_in_train_csv_and_sizes_file_must_agree(root):
    write_pngs(root)
    df = pd.read_csv(root / 'train.csv')
    df['width'], df['height'] = W // 2, H // 2  # half the size train_meta.csv gives
    df.to_csv(root / 'train_png.csv', index=False)
    write_csv(root / 'png_meta.csv', [(i, H, W) for i in ('img_a', 'img_b', 'img_c')], ['image_id', 'dim0', 'dim1'])
    with pytest.raises(AnnotationError, match=r'another original size in .*train_png.csv.* than in .*png_meta.csv, '
                       r'e.g. img_a: \(60, 50\) vs \(120, 100\).*one source remains'):
        build(root, ann_file='train_png.csv', data_prefix=dict(img='png/'))


def test_rows_of_one_image_that_disagree_on_its_size_are_refused(root):
    df = pd.read_csv(root / 'train.csv')
    df['width'], df['height'] = W, H
    df.loc[1, 'width'] = W * 2
    df.to_csv(root / 'train_sized.csv', index=False)
    with pytest.raises(AnnotationError, match=r'disagree on width/height, e.g. img_a .*at lines \[2, 3, 4, 5\]'):
        build(root, ann_file='train_sized.csv')


def test_duplicate_lines_in_a_sizes_file_are_refused(tmp_path):
    path = write_csv(tmp_path / 'train_meta.csv', [('a', 100, 120), ('b', 100, 120), ('a', 50, 60)],
                     ['image_id', 'dim0', 'dim1'])
    with pytest.raises(AnnotationError, match=r'train_meta.csv: 1 image\(s\) listed more than once, e.g. a at '
                       r'lines \[2, 4\]; keep one line per image'):
        read_sizes(path)


def test_an_image_in_two_folds_is_refused(tmp_path):
    path = write_csv(tmp_path / 'folds.csv', [('a', 0), ('b', 1), ('a', 1)], ['image_id', 'fold'])
    with pytest.raises(InputError, match=r'folds.csv: 1 image\(s\) listed more than once, e.g. a at lines \[2, 4\].*'
                       r'make_folds.py'):
        read_folds(str(path))


@pytest.mark.parametrize('fold', ['1', 1.0, True])
def test_a_fold_that_is_not_an_integer_is_refused(root, fold):
    with pytest.raises(InputError, match=r'fold=.* not an integer; write fold='):
        build(root, folds_file='folds.csv', fold=fold)


@pytest.mark.parametrize('cfg, named', [(dict(filter_empty_gt='no'), "filter_empty_gt='no' is not True or False"),
                                        (dict(min_size='abc'), "min_size='abc' is not a number >= 0"),
                                        (dict(min_size=-1), 'min_size=-1 is not a number >= 0')])
def test_filter_options_of_the_wrong_type_are_refused(root, cfg, named):
    with pytest.raises(InputError, match=named):
        build(root, filter_cfg=cfg)


def test_an_empty_training_set_is_refused_naming_the_cause(root):
    write_csv(root / 'one_fold.csv', [('img_a', 0), ('img_b', 0), ('img_c', 0)], ['image_id', 'fold'])
    with pytest.raises(InputError, match=r'fold 0 train: no training images left after the fold selection of '
                       r'.*one_fold.csv.*--n-splits'):
        build(root, folds_file='one_fold.csv', fold=0)
    with pytest.raises(InputError, match=r'filter_cfg=.*drops all 3 training images.*lower min_size'):
        build(root, filter_cfg=dict(min_size=10_000))
