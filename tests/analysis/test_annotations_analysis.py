"""Annotation statistics, and the analysis / browse / folds tools produce readable output."""
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import write_csv
from vinbig_mmdet.analysis.annotations import boxes_per_image, class_table, has_readers, reader_agreement
from vinbig_mmdet.datasets.annotations import read_annotations
from vinbig_mmdet.structures.boxes import BOX_COLUMNS as BOX
from vinbig_mmdet.structures.boxes import box_iou
from vinbig_mmdet.visualization import map_boxes

ROOT = Path(__file__).resolve().parents[2]


def test_reader_agreement_and_table(tmp_path):
    rows = [('a', 'Cardiomegaly', 3, 'R1', 0, 0, 100, 100), ('a', 'Cardiomegaly', 3, 'R2', 5, 0, 100, 100),
            ('a', 'Cardiomegaly', 3, 'R3', 300, 300, 400, 400),  # nobody else there
            ('b', 'ILD', 5, 'R1', 0, 0, 10, 10), ('b', 'ILD', 5, 'R1', 1, 0, 10, 10),  # same reader twice
            ('c', 'No finding', 14, 'R1', None, None, None, None)]
    ann = read_annotations(write_csv(tmp_path / 't.csv', rows))
    agreement = reader_agreement(ann)
    assert agreement[3] == pytest.approx(2 / 3) and agreement[5] == 0.0
    table = class_table(ann)
    assert table.loc[3, 'rows'] == 3 and table.loc[3, 'images'] == 1 and table.loc[14, 'images'] == 1
    assert table.loc[3, 'median_w'] == 100
    assert boxes_per_image(ann).to_dict() == {'a': 3, 'b': 2, 'c': 0}


def test_agreement_needs_readers(tmp_path):
    rows = [('a', 'Cardiomegaly', 3, 0, 0, 100, 100), ('a', 'Cardiomegaly', 3, 5, 0, 100, 100)]
    ann = read_annotations(write_csv(tmp_path / 'consensus.csv', rows,
                                     ['image_id', 'class_name', 'class_id', 'x_min', 'y_min', 'x_max', 'y_max']))
    assert not has_readers(ann)
    assert reader_agreement(ann) == {}  # not 0.0: nobody to agree with
    assert class_table(ann)['agreement@0.4'].isna().all()


def test_vectorised_agreement_equals_the_definition(rng):
    """Every box against every box of another reader in the same image and class, the plain way."""
    n = 400
    ann = pd.DataFrame({'image_id': rng.choice(['a', 'b', 'c', 'd'], n), 'class_id': rng.integers(0, 4, n),
                        'rad_id': rng.choice(['R1', 'R2', 'R3'], n)})
    xy = rng.uniform(0, 50, (n, 2))
    ann[['x_min', 'y_min']] = xy
    ann[['x_max', 'y_max']] = xy + rng.uniform(10, 30, (n, 2))
    expected = {}
    for c in range(4):
        rows = ann[ann['class_id'] == c]
        hits = []
        for _, r in rows.iterrows():
            others = rows[(rows['image_id'] == r['image_id']) & (rows['rad_id'] != r['rad_id'])]
            iou = box_iou([r[BOX].to_numpy(float)], others[BOX].to_numpy(float))
            hits.append(bool((iou > 0.4).any()))
        expected[c] = np.mean(hits)
    assert reader_agreement(ann) == pytest.approx(expected)


def test_map_boxes_follows_resize_and_flip():
    meta = dict(scale_factor=(0.5, 0.25), img_shape=(50, 100), flip=True, flip_direction='horizontal')
    assert map_boxes([[20, 40, 60, 80]], meta).tolist() == [[70, 10, 90, 20]]


def run(*args):
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


@pytest.mark.e2e
def test_analysis_browse_and_folds_tools(demo_root, tmp_path):
    proc = run('tools/analyze_annotations.py', demo_root / 'train.csv', '--out-dir', tmp_path / 'ana')
    assert proc.returncode == 0, proc.stderr
    assert 'Cardiomegaly' in proc.stdout and 'agreement@0.4' in proc.stdout
    for name in ('class_counts', 'boxes_per_image', 'box_sizes', 'reader_agreement'):
        img = cv2.imread(str(tmp_path / 'ana' / f'{name}.png'))
        assert img is not None and img.std() > 0

    proc = run('tools/browse_dataset.py', 'configs/vinbig_faster_rcnn_demo.py', '--data-path', demo_root,
               '--out-dir', tmp_path / 'browse', '--n', 3)
    assert proc.returncode == 0, proc.stderr
    pngs = sorted((tmp_path / 'browse').glob('*.png'))
    assert len(pngs) == 3 and all(cv2.imread(str(p)).shape == (256, 256, 3) for p in pngs)

    out = tmp_path / 'folds.csv'
    proc = run('tools/make_folds.py', '--ann', demo_root / 'train.csv', '--n-splits', 3, '--out', out)
    assert proc.returncode == 0, proc.stderr
    folds = pd.read_csv(out)
    assert sorted(folds['fold'].unique()) == [0, 1, 2] and 'No finding' in proc.stdout
