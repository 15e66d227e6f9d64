"""VinBigDataset on real files: DICOMs written with pydicom, PNGs, CSVs in Kaggle's format."""
import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import write_csv
from vinbig_mmdet.datasets import AnnotationError, VinBigDataset
from vinbig_mmdet.datasets.annotations import read_annotations
from vinbig_mmdet.datasets.vinbig import group_findings
from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.errors import InputError

W, H = 120, 100  # original (DICOM) size of the hand-made images

ROWS = [
    # img_a: three readers agree on one cardiomegaly (IoU > 0.4), one reader adds a nodule elsewhere
    ('img_a', 'Cardiomegaly', 3, 'R8', 20, 50, 100, 80),
    ('img_a', 'Cardiomegaly', 3, 'R9', 22, 52, 98, 82),
    ('img_a', 'Cardiomegaly', 3, 'R10', 18, 48, 102, 78),
    ('img_a', 'Nodule/Mass', 8, 'R9', 5, 5, 15, 15),
    # img_b: normal for all readers
    ('img_b', 'No finding', 14, 'R8', None, None, None, None),
    ('img_b', 'No finding', 14, 'R9', None, None, None, None),
    ('img_b', 'No finding', 14, 'R10', None, None, None, None),
    # img_c: two readers, same class, boxes that do not overlap -> two targets
    ('img_c', 'Pleural effusion', 10, 'R8', 0, 60, 30, 100),
    ('img_c', 'Pleural effusion', 10, 'R9', 90, 60, 120, 100),
]


@pytest.fixture
def dicom_root(tmp_path, rng):
    (tmp_path / 'train').mkdir()
    for img_id in ('img_a', 'img_b', 'img_c'):
        write_dicom(tmp_path / 'train' / f'{img_id}.dicom', rng.integers(0, 4096, (H, W)).astype(np.uint16))
    write_csv(tmp_path / 'train.csv', ROWS)
    return tmp_path


def build(root, **kwargs):
    kwargs.setdefault('ann_file', 'train.csv')
    kwargs.setdefault('data_prefix', dict(img='train/'))
    return VinBigDataset(data_root=str(root), pipeline=[], **kwargs)


def by_id(dataset):
    return {dataset.get_data_info(i)['img_id']: dataset.get_data_info(i) for i in range(len(dataset))}


def boxes_of(info, label=None):
    return np.array([i['bbox'] for i in info['instances'] if label is None or i['bbox_label'] == label])


def test_wbf_fuses_agreeing_readers(dicom_root):
    infos = by_id(build(dicom_root))
    a = infos['img_a']
    assert sorted(i['bbox_label'] for i in a['instances']) == [3, 8]
    np.testing.assert_allclose(boxes_of(a, 3)[0], [20, 50, 100, 80], atol=0.5)  # mean of the three boxes
    assert len(infos['img_c']['instances']) == 2  # non-overlapping boxes stay apart
    assert len(a['reader_instances']) == 4 and {r['rad_id'] for r in a['reader_instances']} == {'R8', 'R9', 'R10'}
    assert (a['width'], a['height'], a['original_size']) == (W, H, (W, H))
    assert all(inst['ignore_flag'] == 0 for inst in a['instances'])


def test_nms_and_unfused(dicom_root):
    nms = by_id(build(dicom_root, fusion=dict(type='nms')))
    assert sorted(i['bbox_label'] for i in nms['img_a']['instances']) == [3, 8]
    assert boxes_of(nms['img_a'], 3).tolist()[0] in [list(map(float, r[4:])) for r in ROWS[:3]]
    none = by_id(build(dicom_root, fusion=dict(type='none')))
    assert len(none['img_a']['instances']) == 4 and len(none['img_c']['instances']) == 2


def test_unknown_fusion(dicom_root):
    with pytest.raises(ValueError, match='fusion type'):
        build(dicom_root, fusion=dict(type='mean'))


def test_filter_empty_gt_drops_no_finding_images_from_training_only(dicom_root):
    infos = by_id(build(dicom_root))
    assert infos['img_b']['instances'] == []  # kept by default, as a negative
    assert set(by_id(build(dicom_root, filter_cfg=dict(filter_empty_gt=False)))) == {'img_a', 'img_b', 'img_c'}
    assert set(by_id(build(dicom_root, filter_cfg=dict(filter_empty_gt=True)))) == {'img_a', 'img_c'}
    assert set(by_id(build(dicom_root, filter_cfg=dict(min_size=H)))) == {'img_a', 'img_b', 'img_c'}  # >= kept
    # validation and test never drop an image, whatever the filter says
    write_csv(dicom_root / 'folds.csv', [('img_a', 0), ('img_b', 0), ('img_c', 0)], ['image_id', 'fold'])
    tested = build(dicom_root, folds_file='folds.csv', fold=0, split='val', test_mode=True,
                   filter_cfg=dict(filter_empty_gt=True, min_size=10 ** 6))
    assert set(by_id(tested)) == {'img_a', 'img_b', 'img_c'}


@pytest.mark.parametrize('old', [True, False])
def test_old_keep_negatives_names_its_replacement(dicom_root, old):
    replaced = rf'keep_negatives={old} is replaced .*filter_cfg=dict\(filter_empty_gt={not old}\)'
    with pytest.raises(InputError, match=replaced):
        build(dicom_root, keep_negatives=old)
    with pytest.raises(InputError, match=r"filter_cfg key\(s\) \['filter_empty'\] not understood.*filter_empty_gt"):
        build(dicom_root, filter_cfg=dict(filter_empty=True))


def test_folds(dicom_root):
    write_csv(dicom_root / 'folds.csv', [('img_a', 0), ('img_b', 1), ('img_c', 1)], ['image_id', 'fold'])
    train = by_id(build(dicom_root, folds_file='folds.csv', fold=1, split='train'))
    val = by_id(build(dicom_root, folds_file='folds.csv', fold=1, split='val'))
    assert set(train) == {'img_a'} and set(val) == {'img_b', 'img_c'}
    with pytest.raises(InputError, match=r'fold 7 does not exist \(folds: \[0, 1\]\)'):
        build(dicom_root, folds_file='folds.csv', fold=7)
    write_csv(dicom_root / 'folds.csv', [('img_a', 0), ('img_b', 1)], ['image_id', 'fold'])
    with pytest.raises(AnnotationError, match=r"1 annotated image\(s\) have no fold.*img_c"):
        build(dicom_root, folds_file='folds.csv', fold=0)


def write_pngs(root, size=(60, 50)):
    (root / 'png').mkdir()
    for img_id in ('img_a', 'img_b', 'img_c'):
        cv2.imwrite(str(root / 'png' / f'{img_id}.png'), np.full(size[::-1], 128, np.uint8))


def test_png_boxes_rescaled_with_size_columns(dicom_root):
    write_pngs(dicom_root)
    df = pd.read_csv(dicom_root / 'train.csv')
    df['width'], df['height'] = W, H  # the awsaf49 layout: original size on every row
    df.to_csv(dicom_root / 'train_png.csv', index=False)
    infos = by_id(build(dicom_root, ann_file='train_png.csv', data_prefix=dict(img='png/')))
    a = infos['img_a']
    assert (a['width'], a['height'], a['original_size']) == (60, 50, (W, H))
    np.testing.assert_allclose(boxes_of(a, 3)[0], [10, 25, 50, 40], atol=0.5)  # halved
    assert a['img_path'].endswith('img_a.png')


def test_png_sizes_from_meta_file_and_error_without(dicom_root):
    write_pngs(dicom_root, size=(30, 50))
    write_csv(dicom_root / 'meta.csv', [(i, W, H) for i in ('img_a', 'img_b', 'img_c')],
              ['image_id', 'width', 'height'])
    a = by_id(build(dicom_root, data_prefix=dict(img='png/'), meta_file='meta.csv'))['img_a']
    np.testing.assert_allclose(boxes_of(a, 3)[0], [5, 25, 25, 40], atol=0.5)  # x / 4, y / 2
    with pytest.raises(AnnotationError, match='original size'):
        build(dicom_root, data_prefix=dict(img='png/'))


def test_missing_images_error_or_counted_skip(dicom_root):
    (dicom_root / 'train' / 'img_c.dicom').unlink()
    with pytest.raises(InputError, match=r"1 of 3 images.*img_c"):
        build(dicom_root)
    dataset = build(dicom_root, missing_images='skip')
    assert set(by_id(dataset)) == {'img_a', 'img_b'}
    assert dataset.repair_log.counts['annotated images without a file skipped'] == 1


def test_missing_folder_says_how_to_get_data(tmp_path):
    with pytest.raises(InputError, match=f'folder {tmp_path}/train/ does not exist.*make demo.*prepare_data.py'):
        VinBigDataset(data_root=str(tmp_path), ann_file='', data_prefix=dict(img='train/'), pipeline=[])


def test_missing_inputs_name_the_path_and_the_command(dicom_root, tmp_path):
    folds = dicom_root / 'folds.csv'
    with pytest.raises(InputError, match=f'{folds} does not exist.*python tools/make_folds.py --ann '
                                         f'{dicom_root}/train.csv --out {folds}'):
        build(dicom_root, folds_file='folds.csv', fold=0)
    with pytest.raises(InputError, match=f'{dicom_root}/nothere.csv does not exist.*Kaggle'):
        build(dicom_root, ann_file='nothere.csv')
    with pytest.raises(InputError, match=f'{dicom_root}/sizes.csv does not exist.*prepare_data.py'):
        build(dicom_root, meta_file='sizes.csv')


def test_folds_file_outside_the_data_folder(dicom_root, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp('work') / 'folds.csv'
    write_csv(elsewhere, [('img_a', 0), ('img_b', 1), ('img_c', 1)], ['image_id', 'fold'])
    val = by_id(build(dicom_root, folds_file=str(elsewhere), fold=1, split='val'))
    assert set(val) == {'img_b', 'img_c'}


def test_png_download_with_dim0_dim1_meta_files(dicom_root):
    """The most used PNG set: square PNGs, the competition's train.csv, train_meta.csv / test_meta.csv with
    image_id,dim0,dim1 (original rows, columns) beside train.csv, no sample_submission.csv."""
    for folder in ('train', 'test'):
        (dicom_root / folder).mkdir(exist_ok=True)
        for img_id in ('img_a', 'img_b', 'img_c'):
            (dicom_root / folder / f'{img_id}.dicom').unlink(missing_ok=True)
            cv2.imwrite(str(dicom_root / folder / f'{img_id}.png'), np.full((64, 64), 128, np.uint8))
        write_csv(dicom_root / f'{folder}_meta.csv', [(i, H, W) for i in ('img_a', 'img_b', 'img_c')],
                  ['image_id', 'dim0', 'dim1'])
    a = by_id(build(dicom_root))['img_a']
    assert (a['width'], a['height'], a['original_size']) == (64, 64, (W, H))
    scale = np.array([64 / W, 64 / H] * 2)
    np.testing.assert_allclose(boxes_of(a, 3)[0], np.array([20, 50, 100, 80]) * scale, atol=0.5)
    test = by_id(build(dicom_root, ann_file='sample_submission.csv', data_prefix=dict(img='test/'), test_mode=True,
                       missing_ann_file='list_images'))
    assert set(test) == {'img_a', 'img_b', 'img_c'} and test['img_a']['original_size'] == (W, H)
    (dicom_root / 'train_meta.csv').unlink()
    with pytest.raises(AnnotationError, match=r'without an original size.*train_meta.csv'):
        build(dicom_root)


def test_group_findings_matches_a_per_image_groupby(demo_root):
    ann = read_annotations(str(demo_root / 'train.csv'))
    grouped = group_findings(ann)
    findings = ann[ann['class_id'] != 14]
    assert set(grouped) == set(findings['image_id'])
    for img_id, rows in findings.groupby('image_id'):
        boxes, labels, readers = grouped[img_id]
        np.testing.assert_array_equal(boxes, rows[['x_min', 'y_min', 'x_max', 'y_max']].to_numpy())
        assert labels.tolist() == rows['class_id'].tolist() and readers.tolist() == rows['rad_id'].tolist()


def test_unlabelled_test_images(dicom_root):
    listed = by_id(build(dicom_root, ann_file='', test_mode=True))
    assert set(listed) == {'img_a', 'img_b', 'img_c'}
    assert all(d['instances'] == [] and d['original_size'] == (W, H) for d in listed.values())
    write_csv(dicom_root / 'sample_submission.csv', [('img_c', '14 1 0 0 1 1'), ('img_a', '14 1 0 0 1 1')],
              ['image_id', 'PredictionString'])
    dataset = build(dicom_root, ann_file='sample_submission.csv', test_mode=True)
    assert [dataset.get_data_info(i)['img_id'] for i in range(len(dataset))] == ['img_c', 'img_a']


def test_clipping_is_counted(dicom_root):
    rows = ROWS + [('img_b', 'ILD', 5, 'R8', 100, 10, 150, 40)]  # beyond the 120 px width
    write_csv(dicom_root / 'train.csv', rows)
    dataset = build(dicom_root)
    assert dataset.repair_log.counts['boxes clipped to the image'] == 1
    assert boxes_of(by_id(dataset)['img_b']).tolist() == [[100, 10, 120, 40]]


def test_demo_data_through_the_training_pipeline(demo_root):
    pipeline = [dict(type='LoadDicomFromFile'), dict(type='LoadAnnotations', with_bbox=True),
                dict(type='Resize', scale=(128, 128), keep_ratio=False), dict(type='PackDetInputs')]
    dataset = VinBigDataset(data_root=str(demo_root), ann_file='train.csv', data_prefix=dict(img='train/'),
                            folds_file='folds.csv', fold=0, split='train', pipeline=pipeline)
    truth = pd.read_csv(demo_root / 'train.csv', dtype={'image_id': str})
    folds = pd.read_csv(demo_root / 'folds.csv', dtype={'image_id': str})
    assert len(dataset) == int((folds['fold'] != 0).sum())
    abnormal = [i for i in range(len(dataset)) if dataset.get_data_info(i)['instances']]
    assert abnormal, 'the demo data has findings'
    sample = dataset[abnormal[0]]
    assert tuple(sample['inputs'].shape) == (3, 128, 128)
    info = dataset.get_data_info(abnormal[0])
    labels = set(truth.loc[truth['image_id'] == info['img_id'], 'class_id'])
    assert set(sample['data_samples'].gt_instances.labels.tolist()) <= labels
