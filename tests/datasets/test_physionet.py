"""The PhysioNet release's files and the class sets, without training: reading annotations_*.csv (class names, no
ids) onto Kaggle's 14 or the release's 22 labels, what is dropped and counted, layout detection, the test sizes
file of the PNG downloads, --ann-file, and the metric with "No finding" as class 22."""
import stat

import cv2
import numpy as np
import pandas as pd
import pytest

from vinbig_mmdet.classes import CLASSES, VINDR_LOCAL_LABELS, class_set
from vinbig_mmdet.datasets.annotations import AnnotationError, RepairLog, has_boxes, read_annotations
from vinbig_mmdet.datasets.layout import find_annotations, is_physionet, is_sizes_file
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.evaluation.kaggle_map import kaggle_map
from vinbig_mmdet.evaluation.submission import format_prediction_string, select_detections

PHYSIONET_HEADER = ['image_id', 'rad_id', 'class_name', 'x_min', 'y_min', 'x_max', 'y_max']
ROWS = [('a', 'R1', 'Rib fracture', 10, 10, 50, 50),
        ('a', 'R1', 'Cardiomegaly', 100, 200, 300, 260),
        ('a', 'R2', 'Cardiomegaly', 102, 198, 305, 262),
        ('a', 'R2', 'Lung cavity', 20, 20, 60, 60),
        ('b', 'R1', 'No finding', None, None, None, None),
        ('b', 'R2', 'No finding', None, None, None, None)]


def write(path, rows, columns=PHYSIONET_HEADER):
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_class_sets():
    assert class_set('kaggle14') == CLASSES and len(class_set('vindr22')) == 22
    assert set(CLASSES) < set(VINDR_LOCAL_LABELS)  # Kaggle's 14 are among the release's 22, same names
    with pytest.raises(InputError, match="class_set='coco' is not known.*kaggle14.*vindr22"):
        class_set('coco')


def test_release_rows_onto_kaggle14_drop_and_count(tmp_path):
    path = write(tmp_path / 'annotations_train.csv', ROWS)
    assert has_boxes(str(path))  # class names without ids still make an annotation file
    log = RepairLog()
    ann = read_annotations(str(path), log=log)
    assert sorted(ann['class_id'].tolist()) == [3, 3, 14, 14]  # Cardiomegaly, "No finding" = 14
    assert log.counts['labels outside the 14-class set dropped'] == 2
    assert 'Rib fracture x1' in log.summary() and 'Lung cavity x1' in log.summary()


def test_release_rows_onto_vindr22(tmp_path):
    path = write(tmp_path / 'annotations_train.csv', ROWS)
    log = RepairLog()
    ann = read_annotations(str(path), log=log, classes=VINDR_LOCAL_LABELS)
    names = dict(zip(ann['class_id'], ann['class_name']))
    assert names == {21: 'Rib fracture', 3: 'Cardiomegaly', 11: 'Lung cavity', 22: 'No finding'}
    assert not log.counts


def test_kaggle_ids_onto_vindr22(tmp_path):
    """Kaggle's train.csv read with the 22 labels: its ids go through its names (Consolidation 4 -> 5)."""
    path = write(tmp_path / 'train.csv', [('a', 'Consolidation', 4, 'R1', 1, 1, 9, 9),
                                          ('b', 'No finding', 14, 'R1', None, None, None, None)],
                 ['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max', 'y_max'])
    ann = read_annotations(str(path), classes=VINDR_LOCAL_LABELS)
    assert ann['class_id'].tolist() == [5, 22]


def test_unknown_label_names_the_line(tmp_path):
    path = write(tmp_path / 'annotations_train.csv', ROWS[:1] + [('c', 'R1', 'Pneumonia', 1, 1, 5, 5)])
    with pytest.raises(AnnotationError, match=r'annotations_train.csv: 1 row\(s\) with a class_name that is no '
                                              r'VinDr-CXR local label.*line 3'):
        read_annotations(str(path))


def test_consensus_test_labels_have_no_reader(tmp_path):
    """annotations_test.csv: the five radiologists' consensus, rad_id empty: no reader, and no repair counted."""
    rows = [(i, None, *rest) for i, _, *rest in ROWS]
    log = RepairLog()
    ann = read_annotations(str(write(tmp_path / 'annotations_test.csv', rows)), log=log)
    assert set(ann['rad_id']) == {'R?'} and 'rad_id' not in log.summary()


def test_layout_detection(tmp_path):
    release = tmp_path / 'release'
    write(release / 'annotations' / 'annotations_train.csv', ROWS)
    write(release / 'annotations' / 'annotations_test.csv', ROWS)
    assert is_physionet(str(release))
    assert find_annotations(str(release), 'train.csv')['ann_file'] == 'annotations/annotations_train.csv'
    test = find_annotations(str(release), 'sample_submission.csv')
    assert test['ann_file'] == 'annotations/annotations_test.csv' and test['labelled']
    png = tmp_path / 'png'
    write(png / 'test.csv', [('t1', 2000, 2500)], ['image_id', 'width', 'height'])
    assert is_sizes_file(str(png / 'test.csv')) and not is_physionet(str(png))
    assert find_annotations(str(png), 'sample_submission.csv') == dict(
        ann_file='test.csv', labelled=False, layout='PNG download', meta_file='test.csv')
    write(png / 'train.csv', [('t1', 'R1', 'No finding', None, None, None, None)])
    assert not is_sizes_file(str(png / 'train.csv'))  # labels: never a sizes file


def test_configs_follow_the_release_layout(tmp_path):
    """--data-path on the release: every loader finds its annotations, the test loader gets the labelled pipeline
    and mAP@0.5 beside mAP@0.4; the 22-class config sets both the class set and num_classes."""
    from vinbig_mmdet.engine.config_utils import load_config
    release = tmp_path / 'release'
    write(release / 'annotations' / 'annotations_train.csv', ROWS)
    write(release / 'annotations' / 'annotations_test.csv', ROWS)
    cfg = load_config('configs/vinbig_faster_rcnn_22cls.py', data_path=str(release))
    for key in ('train_dataloader', 'val_dataloader'):
        assert cfg[key].dataset.ann_file == 'annotations/annotations_train.csv'
        assert cfg[key].dataset.missing_folds_file == 'make' and cfg[key].dataset.class_set == 'vindr22'
    test = cfg.test_dataloader.dataset
    assert test.ann_file == 'annotations/annotations_test.csv' and test.class_set == 'vindr22'
    assert any(t['type'] == 'LoadAnnotations' for t in test.pipeline)
    assert cfg.test_evaluator.extra_iou_thrs == [0.5] and cfg.model.roi_head.bbox_head.num_classes == 22
    main = load_config('configs/vinbig_faster_rcnn.py', data_path=str(release))
    assert main.test_dataloader.dataset.class_set == 'kaggle14' and main.model.roi_head.bbox_head.num_classes == 14


def test_class_set_without_num_classes_refused():
    from vinbig_mmdet.engine.config_utils import load_config
    with pytest.raises(InputError, match=r"class_set='vindr22' has 22 classes but the model has num_classes \[14\]"):
        load_config('configs/vinbig_faster_rcnn.py', cfg_options={'class_set': 'vindr22'})


def test_metric_with_no_finding_as_22():
    truth = {'a': (np.array([[10, 10, 50, 50]]), np.array([21])), 'b': (np.zeros((0, 4)), np.zeros(0, np.int64))}
    det = {'a': select_detections(np.array([[10, 10, 50, 50]]), np.array([0.9]), np.array([21]), no_finding_id=22),
           'b': select_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64), no_finding_id=22)}
    result = kaggle_map(det, truth, 0.4, num_classes=23)
    assert result['n_gt'][21] == 1 and result['n_gt'][22] == 1 and result['mAP'] == pytest.approx(1.0)
    assert format_prediction_string(*det['b'], no_finding_id=22) == '22 1 0 0 1 1'


@pytest.fixture
def png_download(tmp_path):
    """The PNG download the original project recommends, as shipped: square PNGs, train.csv with the competition's
    columns plus width,height, the test sizes in test.csv; no test_meta.csv, no sample_submission.csv."""
    root = tmp_path / 'vinbigdata-1024'
    for split, ids in (('train', ['a', 'b', 'c', 'd', 'e']), ('test', ['t1', 't2'])):
        (root / split).mkdir(parents=True)
        for i in ids:
            cv2.imwrite(str(root / split / f'{i}.png'), np.full((64, 64), 128, np.uint8))
    rows = [(i, 'Cardiomegaly', 3, 'R1', 100, 200, 300, 260, 400, 500) for i in 'abc'] + \
        [(i, 'No finding', 14, 'R1', None, None, None, None, 400, 500) for i in 'de']
    write(root / 'train.csv', rows, ['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max',
                                     'y_max', 'width', 'height'])
    write(root / 'test.csv', [('t1', 2000, 2500), ('t2', 1800, 2200)], ['image_id', 'width', 'height'])
    return root


def build(cfg, key) -> list:
    """The data infos of a loader's dataset (built as the runner builds it)."""
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(cfg[key].dataset)
    return [dataset.get_data_info(i) for i in range(len(dataset))]


def test_png_download_test_sizes_from_test_csv(png_download):
    from vinbig_mmdet.engine.config_utils import load_config
    cfg = load_config('tests/tools/tiny_r18.py', data_path=str(png_download))
    test = build(cfg, 'test_dataloader')
    assert {d['img_id']: d['original_size'] for d in test} == {'t1': (2000, 2500), 't2': (1800, 2200)}
    train = build(cfg, 'train_dataloader')  # no folds.csv: made in memory
    assert train and all(d['original_size'] == (400, 500) for d in train)


def test_ann_file_in_a_separate_read_only_folder(png_download, tmp_path):
    """--ann-file: the annotations outside the image folder, in a read-only folder (Kaggle's /kaggle/input)."""
    from vinbig_mmdet.engine.config_utils import load_config
    labels = tmp_path / 'labels'
    labels.mkdir()
    (png_download / 'train.csv').rename(labels / 'train.csv')
    labels.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        cfg = load_config('tests/tools/tiny_r18.py', data_path=str(png_download),
                          ann_file=str(labels / 'train.csv'))
        assert cfg.train_dataloader.dataset.ann_file == str(labels / 'train.csv')
        val = build(cfg, 'val_dataloader')
        assert val and sorted(p.name for p in labels.iterdir()) == ['train.csv']
    finally:
        labels.chmod(stat.S_IRWXU)


def test_analyze_annotations_on_the_release(tmp_path):
    """tools/analyze_annotations.py --data-path: training per reader (reader agreement), the labelled test set as
    the consensus it is (no reader statistics)."""
    from tests.helpers import call_tool
    release = tmp_path / 'release'
    write(release / 'annotations' / 'annotations_train.csv', ROWS)
    write(release / 'annotations' / 'annotations_test.csv', [(i, None, *rest) for i, _, *rest in ROWS])
    run = call_tool('tools/analyze_annotations.py', '--data-path', release, '--out-dir', tmp_path / 'out')
    train, test = run.stdout.split('== test: ')
    assert 'annotations_train.csv' in train and '2 readers' in train and 'reader vs readers mAP@0.4' in train
    assert 'no readers (consensus labels' in test and 'reader vs readers' not in test
    assert 'labels outside the 14-class set dropped: 2' in train
    assert {p.name for p in (tmp_path / 'out' / 'test').iterdir()} >= {'reader_agreement.png', 'class_counts.png'}
    refused = call_tool('tools/analyze_annotations.py', '--data-path', tmp_path, check=False)
    assert refused.returncode == 1 and 'no train.csv nor annotations/annotations_train.csv' in refused.stderr


def test_a_reading_with_only_dropped_labels_stays_as_no_finding(tmp_path):
    """An image whose only findings lie outside the set is not lost: its reading becomes "No finding", counted."""
    rows = ROWS + [('c', 'R1', 'Rib fracture', 5, 5, 9, 9), ('c', 'R1', 'Edema', 1, 1, 4, 4),
                   ('c', 'R2', 'Cardiomegaly', 100, 200, 300, 260)]
    log = RepairLog()
    ann = read_annotations(str(write(tmp_path / 'annotations_train.csv', rows)), log=log)
    c = ann[ann['image_id'] == 'c'].sort_values('rad_id')
    assert c['class_id'].tolist() == [14, 3] and c['x_min'].isna().tolist() == [True, False]
    assert log.counts['readings left without a label of the 14-class set, kept as "No finding"'] == 1
    assert log.counts['labels outside the 14-class set dropped'] == 4
