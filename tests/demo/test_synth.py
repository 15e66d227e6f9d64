"""The demo generator writes VinBig's formats, deterministically per seed."""
import numpy as np
import pandas as pd
import pydicom

from vinbig_mmdet.datasets.annotations import read_annotations
from vinbig_mmdet.demo.synth import make_demo_dataset


def test_kaggle_formats(demo_root):
    train = pd.read_csv(demo_root / 'train.csv')
    assert list(train.columns) == ['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max',
                                   'y_max']
    read_annotations(str(demo_root / 'train.csv'))  # passes every check
    per_image = train.groupby('image_id')['rad_id'].nunique()
    assert (per_image == 3).all()  # three readers per image
    normal = train.groupby('image_id')['class_id'].apply(lambda c: (c == 14).all())
    abnormal = train.groupby('image_id')['class_id'].apply(lambda c: (c != 14).all())
    assert (normal | abnormal).all()  # "No finding" is unanimous, as in the real data
    assert set(pd.read_csv(demo_root / 'sample_submission.csv')['PredictionString']) == {'14 1 0 0 1 1'}
    files = sorted((demo_root / 'train').glob('*.dicom'))
    assert {f.stem for f in files} == set(train['image_id'])
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    assert {h.PhotometricInterpretation for h in headers} == {'MONOCHROME1', 'MONOCHROME2'}
    assert {h.BitsStored for h in headers} == {12}
    assert all('WindowCenter' in h for h in headers)
    assert any(h.Rows != h.Columns for h in headers)
    syntaxes = {h.file_meta.TransferSyntaxUID.name for h in headers}
    assert any('2000' in s for s in syntaxes) and any('Little Endian' in s for s in syntaxes)


def test_readers_disagree_on_boxes(demo_root):
    train = pd.read_csv(demo_root / 'train.csv').dropna()
    spread = train.groupby(['image_id', 'class_id'])['x_min'].agg(['min', 'max', 'count'])
    multi = spread[spread['count'] > 1]
    assert (multi['max'] > multi['min']).any()


def test_same_seed_same_data(tmp_path):
    kw = dict(n_train=3, n_test=1, seed=11, workers=1, progress=False, height_range=(120, 140))
    make_demo_dataset(str(tmp_path / 'a'), **kw)
    make_demo_dataset(str(tmp_path / 'b'), **kw)
    make_demo_dataset(str(tmp_path / 'c'), **dict(kw, seed=12))
    assert (tmp_path / 'a' / 'train.csv').read_text() == (tmp_path / 'b' / 'train.csv').read_text()
    assert (tmp_path / 'a' / 'train.csv').read_text() != (tmp_path / 'c' / 'train.csv').read_text()
    for f in (tmp_path / 'a' / 'train').glob('*.dicom'):
        other = pydicom.dcmread(tmp_path / 'b' / 'train' / f.name)
        np.testing.assert_array_equal(pydicom.dcmread(f).pixel_array, other.pixel_array)
