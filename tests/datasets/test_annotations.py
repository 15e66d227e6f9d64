"""train.csv checks: every bad row is an error naming its line, or a counted repair."""
import numpy as np
import pandas as pd
import pytest

from tests.helpers import write_csv
from vinbig_mmdet.datasets.annotations import (
    LABEL_COLUMNS,
    AnnotationError,
    RepairLog,
    clip_boxes,
    has_boxes,
    read_annotations,
)

GOOD = [
    ('img1', 'Cardiomegaly', 3, 'R8', 100, 200, 400, 300),
    ('img1', 'Cardiomegaly', 3, 'R9', 110, 205, 390, 310),
    ('img1', 'Aortic enlargement', 0, 'R10', 50, 50, 80, 90),
    ('img2', 'No finding', 14, 'R8', None, None, None, None),
    ('img2', 'No finding', 14, 'R9', None, None, None, None),
    ('img2', 'No finding', 14, 'R10', None, None, None, None),
]


def test_reads_kaggle_format(tmp_path):
    df = read_annotations(write_csv(tmp_path / 'train.csv', GOOD))
    assert len(df) == 6
    assert df['class_id'].tolist() == [3, 3, 0, 14, 14, 14]
    assert df.loc[df['class_id'] == 14, 'x_min'].isna().all()
    assert df['line'].tolist() == [2, 3, 4, 5, 6, 7]


def test_missing_column(tmp_path):
    path = tmp_path / 'train.csv'
    path.write_text('image_id,class_id,x_min,y_min,x_max\nimg1,3,1,2,3\n')
    with pytest.raises(AnnotationError, match=r"train\.csv.*missing column.*y_max"):
        read_annotations(str(path))


@pytest.mark.parametrize('dropped', LABEL_COLUMNS)
def test_a_partial_set_of_box_columns_is_an_error_not_an_image_list(tmp_path, dropped):
    # without class_id, class_name stands in for it (the PhysioNet release's format): drop both then
    dropped_columns = [dropped, 'class_name'] if dropped == 'class_id' else [dropped]
    df = pd.read_csv(write_csv(tmp_path / 'train.csv', GOOD)).drop(columns=dropped_columns)
    df.to_csv(tmp_path / 'train.csv', index=False)
    with pytest.raises(AnnotationError, match=rf"train\.csv: has .* but not \['{dropped}'\]"):
        has_boxes(str(tmp_path / 'train.csv'))


def test_labelled_csv_and_image_list_told_apart_by_columns(tmp_path):
    assert has_boxes(write_csv(tmp_path / 'train.csv', GOOD))
    assert not has_boxes(write_csv(tmp_path / 'sample_submission.csv', [('a', '14 1 0 0 1 1')],
                                   ['image_id', 'PredictionString']))
    assert not has_boxes(write_csv(tmp_path / 'ids.csv', [('a', )], ['image_id']))


def test_empty_rad_id_is_counted_not_read_as_reader_nan(tmp_path):
    rows = GOOD + [('img3', 'ILD', 5, None, 10, 10, 30, 40), ('img3', 'ILD', 5, ' ', 12, 10, 30, 40)]
    log = RepairLog()
    df = read_annotations(write_csv(tmp_path / 'train.csv', rows), log=log)
    assert df.loc[df['image_id'] == 'img3', 'rad_id'].tolist() == ['R?', 'R?']
    assert 'nan' not in set(df['rad_id'])
    assert log.counts['rows with an empty rad_id (reader unknown: R?)'] == 2
    assert 'line 8' in log.summary()


@pytest.mark.parametrize('class_id', [15, -1, 'abc', 2.5])
def test_unknown_class_id_names_the_line(tmp_path, class_id):
    rows = GOOD + [('img3', 'Cardiomegaly', class_id, 'R8', 1, 2, 3, 4)]
    with pytest.raises(AnnotationError, match=r'train\.csv.*class_id.*line 8'):
        read_annotations(write_csv(tmp_path / 'train.csv', rows))


def test_class_name_contradicting_class_id(tmp_path):
    rows = GOOD + [('img3', 'Cardiomegaly', 5, 'R8', 1, 2, 3, 4)]
    with pytest.raises(AnnotationError, match=r'class_name that does not match.*line 8'):
        read_annotations(write_csv(tmp_path / 'train.csv', rows))


def test_finding_without_box(tmp_path):
    rows = GOOD + [('img3', 'ILD', 5, 'R8', 10, None, 30, 40)]
    with pytest.raises(AnnotationError, match=r'a finding but no y_min.*line 8'):
        read_annotations(write_csv(tmp_path / 'train.csv', rows))


def test_non_numeric_coordinate(tmp_path):
    rows = GOOD + [('img3', 'ILD', 5, 'R8', 10, 'twelve', 30, 40)]
    with pytest.raises(AnnotationError, match=r'non-numeric or non-finite y_min.*line 8'):
        read_annotations(write_csv(tmp_path / 'train.csv', rows))


def test_inverted_box_is_an_error_or_a_counted_skip(tmp_path):
    rows = GOOD + [('img3', 'ILD', 5, 'R8', 300, 10, 200, 40), ('img3', 'ILD', 5, 'R9', 10, 10, 10, 40)]
    path = write_csv(tmp_path / 'train.csv', rows)
    with pytest.raises(AnnotationError, match=r'2 row\(s\) with x_min >= x_max.*line 8, line 9'):
        read_annotations(path)
    log = RepairLog()
    df = read_annotations(path, invalid_boxes='skip', log=log)
    assert len(df) == 6
    assert log.counts['invalid boxes dropped (x_min >= x_max or y_min >= y_max)'] == 2
    assert 'line 8' in log.summary()


def test_duplicate_rows_removed_and_counted(tmp_path):
    log = RepairLog()
    df = read_annotations(write_csv(tmp_path / 'train.csv', GOOD + [GOOD[0], GOOD[0]]), log=log)
    assert len(df) == 6
    assert log.counts['duplicate rows removed'] == 2
    assert 'line 8' in log.examples['duplicate rows removed']


def test_no_finding_coordinates_ignored_and_counted(tmp_path):
    rows = GOOD + [('img4', 'No finding', 14, 'R8', 0, 0, 1, 1)]
    log = RepairLog()
    df = read_annotations(write_csv(tmp_path / 'train.csv', rows), log=log)
    assert df.loc[df['image_id'] == 'img4', 'x_min'].isna().all()
    assert log.counts['coordinates ignored on "No finding" rows'] == 1


def test_clipping_to_the_image(tmp_path):
    rows = [('a', 'ILD', 5, 'R8', -10, 5, 50, 120), ('a', 'ILD', 5, 'R9', 10, 10, 20, 20),
            ('a', 'ILD', 5, 'R10', 150, 10, 190, 20)]
    path = write_csv(tmp_path / 'train.csv', rows)
    df = read_annotations(path)
    sizes = {'a': (100, 100)}
    with pytest.raises(AnnotationError, match=r'entirely outside.*line 4'):
        clip_boxes(df, sizes, 'error', path=path)
    log = RepairLog()
    clipped = clip_boxes(df, sizes, 'skip', log, path)
    np.testing.assert_array_equal(clipped[['x_min', 'y_min', 'x_max', 'y_max']].to_numpy(),
                                  [[0, 5, 50, 100], [10, 10, 20, 20]])
    assert log.counts['boxes clipped to the image'] == 1
    assert log.counts['boxes entirely outside the image dropped'] == 1
