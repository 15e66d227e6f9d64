"""Reading and checking Kaggle's ``train.csv``: every bad row is an error that names it, or a counted repair.

Rules (also in the "what happens" table of docs/data.md):

=============================================  ===========================================================
problem                                        what happens
=============================================  ===========================================================
empty, header-only or non-UTF-8 file           one error naming the file (:mod:`vinbig_mmdet.io.csv_reader`)
some but not all of class_id and the box       ``AnnotationError`` naming the file and the missing columns
columns (a CSV with just image_id is an image  (never read as an unlabelled image list)
list)
missing column, unknown class_id, class_name   ``AnnotationError`` naming the file, line and field
that contradicts class_id, finding row without
a box, non-numeric or non-finite coordinate
x_min >= x_max or y_min >= y_max               error, or with ``invalid_boxes='skip'`` dropped, counted, logged
box partly outside the image                   clipped to the image, counted, logged
box entirely outside the image                 as an invalid box (error or skip)
exact duplicate row                            one copy kept, counted, logged
coordinates on a "No finding" row              ignored (some CSV versions write 0 0 1 1), counted
empty rad_id                                   reader unknown (``R?``), counted, logged
no rad_id column (consensus ground truth)      every row's reader is ``R?``: no reader statistics
=============================================  ===========================================================

Line numbers are the file's own (blank lines counted), as an editor shows them.
"""
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ..classes import CLASSES, NO_FINDING_NAME, VINDR_LOCAL_LABELS
from ..errors import InputError
from ..io.csv_reader import LINE, csv_columns, read_csv
from ..structures.boxes import BOX_COLUMNS

LABEL_COLUMNS = ['class_id'] + BOX_COLUMNS  # what makes a CSV an annotation file, not an image list
ANNOTATION_COLUMNS = ['image_id'] + LABEL_COLUMNS
KAGGLE_COLUMNS = ['image_id', 'class_name', 'class_id', 'rad_id'] + BOX_COLUMNS
UNKNOWN_READER = 'R?'  # rad_id of rows without one (consensus ground truth has no readers)
_MAX_EXAMPLES = 5
_KAGGLE_FORMAT = f"Kaggle's train.csv format: {', '.join(KAGGLE_COLUMNS)}"
#: VinDr-CXR as released on PhysioNet (annotations/annotations_{train,test}.csv): class names, no class ids.
PHYSIONET_COLUMNS = ['image_id', 'rad_id', 'class_name'] + BOX_COLUMNS


class AnnotationError(InputError):
    """A row or field of an annotation CSV that cannot be used; the message names the file and line."""


@dataclass
class RepairLog:
    """Counts (and a few examples) of every repair applied to the input, for the end-of-load summary."""
    counts: Counter = field(default_factory=Counter)
    examples: Dict[str, List[str]] = field(default_factory=dict)

    def add(self, kind: str, n: int, examples: List[str]) -> None:
        if n:
            self.counts[kind] += n
            self.examples.setdefault(kind, []).extend(examples[:_MAX_EXAMPLES])

    def summary(self) -> str:
        if not self.counts:
            return 'no repairs needed'
        return '; '.join(f'{kind}: {n} (e.g. {", ".join(self.examples[kind][:3])})'
                         for kind, n in sorted(self.counts.items()))


def _lines(df: pd.DataFrame, mask) -> List[str]:
    return [f'line {int(i)}' for i in df.loc[mask, 'line'].head(_MAX_EXAMPLES)]


def _fail(path, df: pd.DataFrame, mask, what: str) -> None:
    n = int(np.count_nonzero(mask))
    if n:
        raise AnnotationError(f'{path}: {n} row(s) with {what}, at {", ".join(_lines(df, mask))}')


def read_image_list(path: str) -> List[str]:
    """Image ids from any CSV with an ``image_id`` column (e.g. Kaggle's sample_submission.csv)."""
    df = read_csv(path, ['image_id'], dtype={'image_id': str},
                  expected='a CSV with an image_id column (e.g. sample_submission.csv)')
    _fail(path, df, df['image_id'].isna(), 'an empty image_id')
    return list(dict.fromkeys(df['image_id']))  # unique, in file order


def has_boxes(path: str) -> bool:
    """True if the CSV is an annotation file (class_id and the four box columns), False if it is a list of images
    (no label column). Some label columns but not all is an error: the file was meant to hold boxes."""
    columns = csv_columns(path)
    if 'class_id' not in columns and 'class_name' in columns and set(BOX_COLUMNS) <= set(columns):
        columns = columns + ['class_id']  # the PhysioNet release: class names and boxes, no ids
    present = [c for c in LABEL_COLUMNS if c in columns]
    if present and len(present) < len(LABEL_COLUMNS):
        missing = [c for c in LABEL_COLUMNS if c not in columns]
        raise AnnotationError(f'{path}: has {present} but not {missing}, so its boxes cannot be read; found '
                              f'columns {columns}. Expected {_KAGGLE_FORMAT} (or just image_id for a list of '
                              f'unlabelled images)')
    return bool(present)


def class_ids_from_names(df: pd.DataFrame, path: str, classes: Sequence[str], log: RepairLog) -> pd.DataFrame:
    """The PhysioNet release's rows (class names, no ids) with ``class_id`` = position in ``classes`` ("No finding":
    ``len(classes)``). Rows of a known label outside ``classes`` (e.g. "Rib fracture" with Kaggle's 14) are
    dropped and counted; a name that is no VinDr-CXR label is an error naming the line."""
    names = df['class_name'].astype(str).str.strip()
    known = set(VINDR_LOCAL_LABELS) | set(CLASSES) | {NO_FINDING_NAME}
    _fail(path, df, df['class_name'].isna() | ~names.isin(known),
          f'a class_name that is no VinDr-CXR local label nor "{NO_FINDING_NAME}" (known: '
          f'{", ".join(VINDR_LOCAL_LABELS)})')
    ids = {name: k for k, name in enumerate(classes)}
    ids[NO_FINDING_NAME] = len(classes)
    outside = ~names.isin(set(ids))
    counts = names[outside].value_counts()
    log.add(f'labels outside the {len(classes)}-class set dropped', int(outside.sum()),
            [f'{name} x{n}' for name, n in counts.items()])
    # a reading left without any row (all its labels outside the set) stays, as "No finding": the image is not
    # lost from training or scoring, and the count says how many readings became normal
    reader = df['rad_id'].fillna('') if 'rad_id' in df.columns else pd.Series('', index=df.index)
    key = df['image_id'].astype(str) + '\x00' + reader.astype(str)
    emptied = ~key.isin(set(key[~outside])) & ~key.duplicated()
    log.add(f'readings left without a label of the {len(classes)}-class set, kept as "{NO_FINDING_NAME}"',
            int(emptied.sum()), _lines(df, emptied))
    df = df.copy()
    df.loc[emptied, 'class_name'] = NO_FINDING_NAME
    df.loc[emptied, BOX_COLUMNS] = np.nan
    keep = ~outside | emptied
    df = df[keep].copy()
    df['class_name'] = names[keep].where(~emptied[keep], NO_FINDING_NAME)
    df['class_id'] = df['class_name'].map(ids).astype(np.int64)
    return df


def _kaggle_ids_to_names(df: pd.DataFrame, path: str) -> pd.DataFrame:
    """Kaggle's class_id (0..14) as its class name, for mapping onto another class set."""
    class_id = pd.to_numeric(df['class_id'], errors='coerce')
    _fail(path, df, class_id.isna() | (class_id % 1 != 0) | (class_id < 0) | (class_id > len(CLASSES)),
          f'class_id not an integer in 0..{len(CLASSES)} (Kaggle\'s ids)')
    df = df.drop(columns=['class_id'])
    df['class_name'] = np.array(CLASSES + (NO_FINDING_NAME, ), dtype=object)[class_id.astype(np.int64).to_numpy()]
    return df


def read_annotations(path: str, invalid_boxes: str = 'error', log: Optional[RepairLog] = None,
                     classes: Sequence[str] = CLASSES) -> pd.DataFrame:
    """Read and check a train.csv-format file, or the PhysioNet release's annotations_*.csv (class names without
    ids: mapped onto ``classes``, labels outside them dropped and counted).

    Returns one row per box (or per "No finding" reading) with columns image_id, class_id, rad_id,
    x_min..y_max (NaN on "No finding" rows), the optional width/height columns, and ``line`` (the CSV line).
    ``class_id`` runs over ``0..len(classes)``, the last being "No finding".
    """
    if invalid_boxes not in ('error', 'skip'):
        raise ValueError(f"invalid_boxes must be 'error' or 'skip', got {invalid_boxes!r}")
    log = log if log is not None else RepairLog()
    df = read_csv(path, dtype={'image_id': str, 'rad_id': str, 'class_name': str}, expected=_KAGGLE_FORMAT)
    if 'rad_ID' in df.columns and 'rad_id' not in df.columns:  # some copies of the release spell it so
        df = df.rename(columns={'rad_ID': 'rad_id'})
    classes = tuple(classes)
    no_finding_id = len(classes)
    if 'class_id' in df.columns and classes != CLASSES:  # Kaggle's ids onto another set, through the names
        df = _kaggle_ids_to_names(df, path)
    if 'class_id' not in df.columns and 'class_name' in df.columns:
        df = class_ids_from_names(df, path, classes, log)
    missing = [c for c in ANNOTATION_COLUMNS if c not in df.columns]
    if missing:
        raise AnnotationError(f'{path}: missing column(s) {missing}; found '
                              f'{[c for c in df.columns if c != "line"]}. Expected {_KAGGLE_FORMAT}')
    if 'rad_id' not in df.columns:
        df['rad_id'] = UNKNOWN_READER
    no_reader = df['rad_id'].isna() | (df['rad_id'].str.strip() == '')
    if no_reader.all():  # consensus ground truth (the PhysioNet test set): no readers, nothing repaired
        df['rad_id'] = UNKNOWN_READER
        no_reader = no_reader & False
    log.add(f'rows with an empty rad_id (reader unknown: {UNKNOWN_READER})', int(no_reader.sum()),
            _lines(df, no_reader))
    df.loc[no_reader, 'rad_id'] = UNKNOWN_READER
    _fail(path, df, df['image_id'].isna(), 'an empty image_id')

    class_id = pd.to_numeric(df['class_id'], errors='coerce')
    bad_class = class_id.isna() | (class_id % 1 != 0) | (class_id < 0) | (class_id > no_finding_id)
    _fail(path, df, bad_class, f'class_id not an integer in 0..{no_finding_id}')
    df['class_id'] = class_id.astype(np.int64)
    if 'class_name' in df.columns:
        names = np.array(classes + (NO_FINDING_NAME, ), dtype=object)[df['class_id'].to_numpy()]
        _fail(path, df, df['class_name'].notna() & (df['class_name'] != names),
              'a class_name that does not match class_id')

    finding = df['class_id'] != no_finding_id
    for col in BOX_COLUMNS:
        raw = df[col]
        values = pd.to_numeric(raw, errors='coerce')
        _fail(path, df, finding & raw.isna(), f'a finding but no {col}')
        _fail(path, df, finding & raw.notna() & ~np.isfinite(values.fillna(np.nan)),
              f'a non-numeric or non-finite {col}')
        df[col] = values.astype(np.float64)
    with_box = ~finding & df[BOX_COLUMNS].notna().any(axis=1)
    log.add('coordinates ignored on "No finding" rows', int(with_box.sum()), _lines(df, with_box))
    df.loc[~finding, BOX_COLUMNS] = np.nan

    inverted = finding & ((df['x_min'] >= df['x_max']) | (df['y_min'] >= df['y_max']))
    if invalid_boxes == 'error':
        _fail(path, df, inverted, "x_min >= x_max or y_min >= y_max (use invalid_boxes='skip' to drop them)")
    log.add('invalid boxes dropped (x_min >= x_max or y_min >= y_max)', int(inverted.sum()), _lines(df, inverted))
    df = df[~inverted]

    key = ['image_id', 'class_id', 'rad_id'] + BOX_COLUMNS
    dup = df.duplicated(subset=key, keep='first')
    log.add('duplicate rows removed', int(dup.sum()), _lines(df, dup))
    return df[~dup].reset_index(drop=True)


def clip_boxes(df: pd.DataFrame, sizes: Dict[str, Tuple[int, int]], invalid_boxes: str = 'error',
               log: Optional[RepairLog] = None, path: str = '<annotations>') -> pd.DataFrame:
    """Clip boxes to their image (``sizes``: image_id -> original (width, height)); see the module rules."""
    log = log if log is not None else RepairLog()
    wh = np.array([sizes[i] for i in df['image_id']], dtype=np.float64).reshape(-1, 2)
    box = df[BOX_COLUMNS].to_numpy()
    clipped = np.clip(box, 0, np.concatenate([wh, wh], axis=1))
    finding = ~np.isnan(box[:, 0])
    changed = finding & np.any(clipped != box, axis=1)
    empty = finding & ((clipped[:, 2] <= clipped[:, 0]) | (clipped[:, 3] <= clipped[:, 1]))
    if invalid_boxes == 'error':
        _fail(path, df, empty, 'a box entirely outside its image')
    log.add('boxes entirely outside the image dropped', int(empty.sum()), _lines(df, empty))
    log.add('boxes clipped to the image', int((changed & ~empty).sum()), _lines(df, changed & ~empty))
    df = df.copy()
    df[BOX_COLUMNS] = clipped
    return df[~empty].reset_index(drop=True)


def read_sizes(path: str) -> Dict[str, Tuple[int, int]]:
    """image_id -> original (width, height) from a CSV with image_id and width, height, or dim0, dim1 (rows,
    columns: the 1024 px PNG set's train_meta.csv / test_meta.csv). An image listed twice is refused: which line
    is right cannot be guessed."""
    df = read_csv(path, ['image_id'], dtype={'image_id': str},
                  expected='image_id and width, height, or dim0, dim1 (original DICOM size)')
    if not {'width', 'height'} & set(df.columns):
        df = df.rename(columns={'dim0': 'height', 'dim1': 'width'})
    missing = [c for c in ('image_id', 'width', 'height') if c not in df.columns]
    if missing:
        raise AnnotationError(f'{path}: missing column(s) {missing} (need image_id and width, height or dim0, dim1)')
    dup = df['image_id'].duplicated(keep=False) & df['image_id'].notna()
    if dup.any():
        first = df.loc[dup, 'image_id'].iloc[0]
        lines = df.loc[df['image_id'] == first, LINE].tolist()
        raise AnnotationError(f'{path}: {int(df.loc[dup, "image_id"].nunique())} image(s) listed more than once, '
                              f'e.g. {first} at lines {lines}; keep one line per image (the one with the right '
                              f'size) and delete the others')
    return sizes_from_frame(df, path)


def sizes_from_frame(df: pd.DataFrame, path: Union[str, None] = None) -> Dict[str, Tuple[int, int]]:
    """image_id -> (width, height); the rows of one image (train.csv has one per reader) must agree."""
    w, h = (pd.to_numeric(df[c], errors='coerce') for c in ('width', 'height'))
    bad = w.isna() | h.isna() | (w <= 0) | (h <= 0)
    if bad.any():
        raise AnnotationError(f'{path}: {int(bad.sum())} image(s) with a missing or non-positive width/height, '
                              f'e.g. {list(df.loc[bad, "image_id"].head(_MAX_EXAMPLES))}')
    sizes = pd.DataFrame({'image_id': df['image_id'], 'w': w.astype(int), 'h': h.astype(int)})
    if LINE in df.columns:
        sizes[LINE] = df[LINE]
    per_image = sizes.groupby('image_id', sort=False)[['w', 'h']].nunique()
    conflicting = per_image.index[(per_image['w'] > 1) | (per_image['h'] > 1)]
    if len(conflicting):
        first = sizes[sizes['image_id'] == conflicting[0]]
        where = (f' at lines {first[LINE].tolist()[:_MAX_EXAMPLES]}' if LINE in first.columns else '')
        raise AnnotationError(f'{path}: {len(conflicting)} image(s) with rows that disagree on width/height, e.g. '
                              f'{conflicting[0]} ({sorted(set(zip(first["w"], first["h"])))} as width, height)'
                              f'{where}; give every row of an image its one original size')
    sizes = sizes.drop_duplicates('image_id')
    return dict(zip(sizes['image_id'], zip(sizes['w'].tolist(), sizes['h'].tolist())))
