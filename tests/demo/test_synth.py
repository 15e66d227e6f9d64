"""The demo generator writes VinBig's formats, deterministically per seed, with the real data's statistics."""
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pydicom
import pytest

from vinbig_mmdet.analysis.agreement import reader_vs_readers_map
from vinbig_mmdet.classes import CLASSES, NO_FINDING_ID
from vinbig_mmdet.datasets.annotations import BOX_COLUMNS, read_annotations
from vinbig_mmdet.demo.synth import (
    CONFUSED_PAIRS,
    DEFAULT_N_TEST,
    DEFAULT_N_TRAIN,
    DEFAULT_SEED,
    REAL_ABNORMAL_IMAGES,
    REAL_STATS,
    make_demo_dataset,
    plan_dataset,
    reader_annotations,
)
from vinbig_mmdet.evaluation.kaggle_map import box_iou

ROOT = Path(__file__).resolve().parents[2]


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


def default_demo_train_csv(path):
    """The default demo set's train.csv (make demo, tools/make_demo_data.py), without rendering its DICOMs."""
    plan = plan_dataset(DEFAULT_N_TRAIN, DEFAULT_N_TEST, DEFAULT_SEED)
    reader_annotations(plan, DEFAULT_SEED).to_csv(path, index=False)
    return path


def test_written_train_csv_is_the_planned_one(tmp_path):
    kw = dict(n_train=4, n_test=1, seed=5, height_range=(120, 140), normal_frac=0.5)
    make_demo_dataset(str(tmp_path / 'a'), workers=1, progress=False, **kw)
    planned = reader_annotations(plan_dataset(**kw), kw['seed'])
    planned.to_csv(tmp_path / 'planned.csv', index=False)
    assert (tmp_path / 'a' / 'train.csv').read_text() == (tmp_path / 'planned.csv').read_text()


@pytest.mark.e2e
def test_analysis_of_the_default_demo_ranks_classes_and_readers_agree_as_on_real_data(tmp_path):
    csv = default_demo_train_csv(tmp_path / 'train.csv')
    proc = subprocess.run([sys.executable, 'tools/analyze_annotations.py', str(csv), '--out-dir', str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    images = {int(m.group(1)): int(m.group(2)) for m in
              re.finditer(r'^\s*(\d+)\s+\D+?\s+\d+\s+(\d+)\s', proc.stdout, re.MULTILINE)}
    assert sorted(images) == list(range(15))
    frequent = [images[c] for c in (0, 3, 11, 13)]  # the real table's four most frequent findings, in order
    assert frequent == sorted(frequent, reverse=True) and len(set(frequent)) == 4
    assert frequent[-1] > max(images[c] for c in range(14) if c not in (0, 3, 11, 13))
    agreement = float(re.search(r'reader vs readers mAP@0.4: ([\d.]+)', proc.stdout).group(1))
    assert 0.18 <= agreement <= 0.28  # the real train.csv: about 0.23


def test_large_set_follows_the_real_statistics():
    ann = reader_annotations(plan_dataset(1500, 0, seed=7, normal_frac=0.5), seed=7)
    findings = ann[ann['class_id'] != NO_FINDING_ID]
    n_abnormal = findings['image_id'].nunique()
    assert n_abnormal == 750
    images = findings.groupby('class_id')['image_id'].nunique().reindex(range(14), fill_value=0)
    rows = findings.groupby('class_id').size().reindex(range(14), fill_value=0)
    for c, (real_images, real_rows, *_) in REAL_STATS.items():
        assert abs(images[c] / n_abnormal - real_images / REAL_ABNORMAL_IMAGES) < 0.05, CLASSES[c]
        if c in (0, 2, 3, 10, 11, 12):  # classes nobody confuses: readers report them as often as real ones
            assert rows[c] / images[c] == pytest.approx(real_rows / real_images, rel=0.15), CLASSES[c]
    reads = ann.groupby('rad_id')['image_id'].nunique().sort_values(ascending=False)
    assert len(reads) == 17 and set(reads.index[:3]) == {'R8', 'R9', 'R10'}
    assert 0.18 <= reader_vs_readers_map(ann)['mAP'] <= 0.28


def test_readers_disagree_on_presence_extent_and_neighbouring_classes():
    ann = reader_annotations(plan_dataset(300, 0, seed=2, normal_frac=0.5), seed=2)
    findings = ann[ann['class_id'] != NO_FINDING_ID]
    readers_per_class = findings.groupby(['image_id', 'class_id'])['rad_id'].nunique()
    assert (readers_per_class == 1).any() and (readers_per_class == 3).any()  # presence
    confused = {frozenset(p) for p in CONFUSED_PAIRS}
    ious, swaps = [], 0
    for _, rows in findings.groupby('image_id'):
        boxes, labels = rows[BOX_COLUMNS].to_numpy(float), rows['class_id'].to_numpy()
        readers = rows['rad_id'].to_numpy()
        iou = box_iou(boxes, boxes)
        for i, j in zip(*np.nonzero(np.triu(readers[:, None] != readers[None, :], 1))):
            if labels[i] == labels[j]:
                ious.append(iou[i, j])
            elif iou[i, j] > 0.4 and frozenset((labels[i], labels[j])) in confused:
                swaps += 1
    ious = np.array(ious)
    assert 0.2 < np.mean(ious > 0.4) < 0.9 and np.median(ious[ious > 0]) < 0.8  # extent
    assert swaps >= 5  # neighbouring classes for the same finding
