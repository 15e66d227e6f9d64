"""The synthetic demo in the layout of VinDr-CXR as released on PhysioNet (for the demo and the tests).

Written under ``out``, exactly as the release names its files (see docs/physionet.md)::

    train/<image_id>.dicom                  test/<image_id>.dicom
    annotations/annotations_train.csv       image_id, rad_id, class_name, x_min, y_min, x_max, y_max (3 readers)
    annotations/annotations_test.csv        the same columns, the test set's consensus (one reader: rad_id empty)
    annotations/image_labels_train.csv      image_id, rad_id, one 0/1 column per local and global label
    annotations/image_labels_test.csv       image_id, one 0/1 column per label (consensus; "Other disease")

The images and boxes are the Kaggle-layout demo's (:mod:`vinbig_mmdet.demo.synth`). Its generator draws Kaggle's 14
classes only, so, to give the 8 labels the release adds some rows, the first class of every third abnormal image
is renamed to one of them (``EXTRA_LABELS``, in turn) for all its readers: a 14-class run then drops those rows,
a 22-class run keeps them.
"""
import os
from pathlib import Path
from typing import Dict, Optional

import pandas as pd

from ..classes import CLASSES, NO_FINDING_NAME, VINDR_LOCAL_LABELS
from ..structures.boxes import BOX_COLUMNS
from .synth import make_demo_dataset

EXTRA_LABELS = tuple(c for c in VINDR_LOCAL_LABELS if c not in CLASSES)
#: The release's global (image-level only) labels, after the 22 local ones in image_labels_*.csv.
GLOBAL_LABELS = ('COPD', 'Lung tumor', 'Pneumonia', 'Tuberculosis', 'Other diseases', NO_FINDING_NAME)
ANNOTATION_COLUMNS = ['image_id', 'rad_id', 'class_name', *BOX_COLUMNS]


def _rename_extra(ann: pd.DataFrame) -> pd.DataFrame:
    """The first class of every third abnormal image renamed to a label Kaggle's 14 lack, for all its readers."""
    ann = ann.copy()
    abnormal = [i for i in dict.fromkeys(ann['image_id']) if (ann.loc[ann['image_id'] == i, 'class_name']
                                                              != NO_FINDING_NAME).any()]
    for k, img_id in enumerate(abnormal[::3]):
        rows = (ann['image_id'] == img_id) & (ann['class_name'] != NO_FINDING_NAME)
        first = ann.loc[rows, 'class_id'].min()
        ann.loc[rows & (ann['class_id'] == first), 'class_name'] = EXTRA_LABELS[k % len(EXTRA_LABELS)]
    return ann


def _image_labels(ann: pd.DataFrame, per_reader: bool, other_name: str) -> pd.DataFrame:
    """One 0/1 column per local and global label, per image (and reader in training)."""
    keys = ['image_id', 'rad_id'] if per_reader else ['image_id']
    rows = []
    for key, group in ann.groupby(keys, sort=False):
        key = key if isinstance(key, tuple) else (key, )
        present = set(group['class_name'])
        row = dict(zip(keys, key))
        row.update({c: int(c in present) for c in VINDR_LOCAL_LABELS})
        row.update({(other_name if g == 'Other diseases' else g): int(g in present) for g in GLOBAL_LABELS})
        rows.append(row)
    return pd.DataFrame(rows)


def make_physionet_demo(out: str, n_train: int, n_test: int, seed: int, workers: Optional[int] = None,
                        progress: bool = True, **plan_kwargs) -> Dict[str, object]:
    """Write the demo in the PhysioNet release's layout under ``out``; returns make_demo_dataset's summary plus
    the number of rows given a label outside Kaggle's 14 (``n_extra_rows``)."""
    root = Path(out)
    summary = make_demo_dataset(out, n_train, n_test, seed, workers=workers, progress=progress, **plan_kwargs)
    (root / 'annotations').mkdir(exist_ok=True)
    train = _rename_extra(pd.read_csv(root / 'train.csv', dtype={'image_id': str, 'rad_id': str}))
    test = _rename_extra(pd.read_csv(root / 'test_annotations.csv', dtype={'image_id': str, 'rad_id': str}))
    test['rad_id'] = ''  # the consensus of five radiologists: no single reader
    train[ANNOTATION_COLUMNS].to_csv(root / 'annotations' / 'annotations_train.csv', index=False)
    test[ANNOTATION_COLUMNS].to_csv(root / 'annotations' / 'annotations_test.csv', index=False)
    _image_labels(train, True, 'Other diseases').to_csv(root / 'annotations' / 'image_labels_train.csv', index=False)
    _image_labels(test, False, 'Other disease').to_csv(root / 'annotations' / 'image_labels_test.csv', index=False)
    for name in ('train.csv', 'test_annotations.csv', 'sample_submission.csv'):
        os.remove(root / name)
    extra = int(train['class_name'].isin(EXTRA_LABELS).sum() + test['class_name'].isin(EXTRA_LABELS).sum())
    return dict(summary, n_extra_rows=extra, layout='physionet')


__all__ = ['make_physionet_demo', 'EXTRA_LABELS', 'GLOBAL_LABELS']
