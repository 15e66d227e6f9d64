"""Kaggle submission rows: model output -> original DICOM pixels -> ``class score x_min y_min x_max y_max ...``.

One parser (:func:`read_submission`, :func:`parse_prediction_string`) serves every tool, and it checks every
value: finite numbers, an integer class 0..14 (``3.0`` reads as 3, ``3.7`` is an error), a score in [0, 1],
``x_min < x_max`` and ``y_min < y_max``. A bad value is a :class:`SubmissionError` naming the file and line.
"""
import itertools
from typing import Callable, Dict, Iterable, List, Sequence, Tuple, Union

import numpy as np
import pandas as pd

from ..classes import FILTER_HIGH, FILTER_LOW, NO_FINDING_ID
from ..errors import InputError
from ..io.atomic import write_csv_atomic
from ..io.csv_reader import LINE, read_csv
from .kaggle_map import NO_FINDING_BOX

Detections = Tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (N, 4), scores (N,), labels (N,)
NO_FINDING_MODES = ('1-max', 'empty')
SCORE_DECIMALS, BOX_DECIMALS = 4, 1  # precision of the written values
_OBJECT = (f'each object is "class score x_min y_min x_max y_max": an integer class 0..{NO_FINDING_ID}, a score in '
           f'[0, 1], x_min < x_max and y_min < y_max, in original pixels')


class SubmissionError(InputError):
    """A submission (or probabilities) file that cannot be scored or fused; names the file and line."""


def to_original_pixels(boxes: np.ndarray, loaded_hw: Sequence[int], original_wh: Sequence[int]) -> np.ndarray:
    """Scale boxes from the loaded image (height, width) to the original image (width, height), clipped."""
    h, w = loaded_hw[:2]
    ow, oh = original_wh
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4) * np.array([ow / w, oh / h, ow / w, oh / h])
    return np.clip(boxes, 0, np.array([ow, oh, ow, oh], dtype=np.float64))


def select_detections(boxes, scores, labels, score_thr: float = 0.0, max_per_img: int = 100,
                      no_finding: str = '1-max', no_finding_id: int = NO_FINDING_ID) -> Detections:
    """Keep the ``max_per_img`` best detections above ``score_thr`` and add the class-14 prediction.

    ``no_finding='1-max'`` appends ``14 (1 - best score) 0 0 1 1`` to every image (so an image with nothing found
    gets ``14 1 0 0 1 1``, and likely-normal images rank high for class 14); ``'empty'`` adds ``14 1 0 0 1 1`` only
    where nothing is found.
    """
    if no_finding not in NO_FINDING_MODES:
        raise ValueError(f'no_finding must be one of {NO_FINDING_MODES}, got {no_finding!r}')
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels, np.int64)
    # Boxes that would be written with zero width or height (to 0.1 px) can match nothing and would make the
    # submission invalid; they are dropped with the low scores.
    written = np.round(boxes, BOX_DECIMALS)
    has_area = (written[:, 2] > written[:, 0]) & (written[:, 3] > written[:, 1])
    keep = (scores >= score_thr) & (labels != no_finding_id) & has_area
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    order = np.argsort(-scores, kind='stable')[:max_per_img]
    boxes, scores, labels = boxes[order], scores[order], labels[order]
    best = float(scores[0]) if len(scores) else 0.0
    if no_finding == '1-max' or not len(scores):
        boxes = np.concatenate([boxes, np.array([NO_FINDING_BOX])])
        scores = np.concatenate([scores, [1.0 - best]])
        labels = np.concatenate([labels, [no_finding_id]])
    return boxes, scores, labels


def _compact(value: float, decimals: int) -> str:
    text = f'{float(value):.{decimals}f}'.rstrip('0').rstrip('.')
    return '0' if text in ('', '-0') else text


def format_prediction_string(boxes, scores, labels, no_finding_id: int = NO_FINDING_ID) -> str:
    """``class score x_min y_min x_max y_max ...`` with 4-decimal scores and 0.1 px boxes, trailing zeros
    dropped (so "No finding" reads ``14 1 0 0 1 1``)."""
    parts = []
    for box, s, c in zip(np.asarray(boxes).reshape(-1, 4), scores, labels):
        parts.append(' '.join([str(int(c)), _compact(s, SCORE_DECIMALS)] + [_compact(v, BOX_DECIMALS) for v in box]))
    return ' '.join(parts) if parts else f'{no_finding_id} 1 0 0 1 1'


def _object_problem(values: np.ndarray) -> str:
    """What is wrong with one object's 6 values."""
    c, score, x1, y1, x2, y2 = values
    if not np.isfinite(values).all():
        return 'a value that is not a finite number'
    if c % 1 or not 0 <= c <= NO_FINDING_ID:
        return f'class {c:g} is not an integer in 0..{NO_FINDING_ID}'
    if not 0 <= score <= 1:
        return f'score {score:g} is outside [0, 1]'
    return f'x_min {x1:g} >= x_max {x2:g}' if not x1 < x2 else f'y_min {y1:g} >= y_max {y2:g}'


def _invalid_objects(values: np.ndarray) -> np.ndarray:
    """Mask of the objects (rows of ``values``, N x 6) that break the rules of the module docstring."""
    c, score, x1, y1, x2, y2 = values.T
    ok = np.isfinite(values).all(axis=1) & (c % 1 == 0) & (c >= 0) & (c <= NO_FINDING_ID)
    ok &= (score >= 0) & (score <= 1) & (x1 < x2) & (y1 < y2)
    return ~ok


def parse_prediction_strings(texts: Sequence[str], where: Callable[[int], str]) -> List[Detections]:
    """Parse and check many PredictionStrings at once (``where(i)`` names the i-th in messages, e.g. its line).

    An empty string is an image without predictions."""
    tokens = [t.split() if isinstance(t, str) else [] for t in texts]
    counts = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    odd = np.flatnonzero(counts % 6)
    if len(odd):
        raise SubmissionError(f'{where(odd[0])}: PredictionString has {counts[odd[0]]} values, not a multiple of 6 '
                              f'({len(odd)} such row(s)); {_OBJECT}')
    try:
        values = np.array(list(itertools.chain.from_iterable(tokens)), dtype=np.float64).reshape(-1, 6)
    except ValueError:
        for i, row in enumerate(tokens):
            try:
                np.array(row, dtype=np.float64)
            except ValueError as exc:
                raise SubmissionError(f'{where(i)}: non-numeric value in PredictionString ({exc}); '
                                      f'{_OBJECT}') from None
        raise
    bad = np.flatnonzero(_invalid_objects(values))
    per_row = counts // 6
    if len(bad):
        first = int(bad[0])
        row = int(np.searchsorted(np.cumsum(per_row), first, side='right'))
        obj = first - int(per_row[:row].sum())
        text = ' '.join(tokens[row][6 * obj:6 * obj + 6])
        raise SubmissionError(f'{where(row)}: object {obj + 1} ("{text}"): {_object_problem(values[first])} '
                              f'({len(bad)} invalid object(s) in the file); {_OBJECT}')
    return [(v[:, 2:6], v[:, 1], v[:, 0].astype(np.int64))
            for v in np.split(values, np.cumsum(per_row)[:-1])] if len(texts) else []


def parse_prediction_string(text, where: str = 'PredictionString') -> Detections:
    """Inverse of :func:`format_prediction_string`, with the checks of the module docstring."""
    return parse_prediction_strings([text], lambda i: where)[0]


def read_submission(path: str) -> Dict[str, Detections]:
    """image_id -> detections of a submission CSV (``image_id,PredictionString``); every value checked."""
    df = read_csv(path, ['image_id', 'PredictionString'], dtype={'image_id': str, 'PredictionString': str},
                  keep_default_na=False, expected='a Kaggle submission: image_id,PredictionString')
    lines = df['line'].to_numpy()
    empty_id = np.flatnonzero(df['image_id'].str.strip().to_numpy() == '')
    if len(empty_id):
        raise SubmissionError(f'{path} line {lines[empty_id[0]]}: empty image_id')
    dup = np.flatnonzero(df['image_id'].duplicated().to_numpy())
    if len(dup):
        raise SubmissionError(f'{path}: image_id repeated on line(s) {lines[dup][:5].tolist()}; one row per image')
    dets = parse_prediction_strings(df['PredictionString'].tolist(), lambda i: f'{path} line {lines[i]}')
    return dict(zip(df['image_id'], dets))


def write_submission(path: str, rows: Iterable[Tuple[str, str]]) -> int:
    """Write ``image_id,PredictionString`` atomically (temporary file, fsync, rename). Returns the row count."""
    return write_csv_atomic(path, ['image_id', 'PredictionString'], rows)


def read_abnormal_probabilities(path: str) -> Dict[str, float]:
    """image_id -> probability that the image is abnormal, from a CSV of image_id and one probability column
    (named prob, probability, p_abnormal or target, or the only other column)."""
    df = read_csv(path, ['image_id'], dtype={'image_id': str}, expected='image_id,prob')
    named = [c for c in ('prob', 'probability', 'p_abnormal', 'target') if c in df.columns]
    others = [c for c in df.columns if c not in ('image_id', LINE)]
    column = named[0] if named else (others[0] if len(others) == 1 else None)
    if column is None:
        raise SubmissionError(f'{path}: cannot tell the probability column among {others}; name it "prob"')
    p = pd.to_numeric(df[column], errors='coerce')
    bad = (p.isna() | (p < 0) | (p > 1)).to_numpy()
    if bad.any():
        raise SubmissionError(f'{path}: {int(bad.sum())} probabilities missing or outside [0, 1], at line(s) '
                              f'{df[LINE].to_numpy()[bad][:5].tolist()}')
    return dict(zip(df['image_id'], p.astype(float)))


def check_filter_thresholds(low, high, options: Tuple[str, str] = ('--filter-low', '--filter-high')) -> None:
    """0 <= low <= high <= 1: an inverted pair would call every image both normal and abnormal, deleting every
    detection."""
    values = []
    for value, option in zip((low, high), options):
        try:
            values.append(float(value))
        except (TypeError, ValueError):
            values.append(float('nan'))
        if not 0 <= values[-1] <= 1:
            raise InputError(f'{option} {value!r}: a probability threshold is a number in [0, 1]')
    if values[0] > values[1]:
        raise InputError(f'{options[0]} {low!r} is above {options[1]} {high!r}: below low an image is called '
                         f'normal, above high abnormal; give low <= high (defaults {FILTER_LOW} and {FILTER_HIGH})')


def average_abnormal_probabilities(paths: Union[str, Sequence[str]]) -> Dict[str, float]:
    """image_id -> the mean probability over several classifiers' CSVs (e.g. one per fold on the test images).
    Every file must cover the same images: a mean over fewer files for some images would weigh folds unevenly."""
    paths = [paths] if isinstance(paths, str) else list(paths)
    if not paths:
        raise SubmissionError('no abnormality probability file given')
    tables = [read_abnormal_probabilities(p) for p in paths]
    union = set().union(*tables)
    for path, table in zip(paths, tables):
        missing = sorted(union - set(table))
        if missing:
            others = ', '.join(p for p in paths if p != path)
            raise SubmissionError(f'{path} has no probability for {len(missing)} image(s) that {others} cover(s), '
                                  f'e.g. {missing[:5]}: average files written for the same images (one '
                                  f'tools/predict_abnormal.py run per classifier on the same split)')
    return {i: float(np.mean([t[i] for t in tables])) for i in tables[0]}


def two_class_filter(det: Detections, p_abnormal: float, low: float = FILTER_LOW,
                     high: float = FILTER_HIGH) -> Detections:
    """The image-level filter top teams used: an image classifier's probability of abnormality decides.

    - ``p < low``: the image is called normal: only ``14 1 0 0 1 1``.
    - ``low <= p < high``: detections stay and "No finding" gets ``14 (1 - p) 0 0 1 1`` (replacing any other
      class-14 entry, so the image is not scored twice for class 14).
    - ``p >= high``: the detections stay as they are.
    """
    boxes, scores, labels = (np.asarray(a) for a in det)
    if p_abnormal < low:
        return np.array([NO_FINDING_BOX]), np.array([1.0]), np.array([NO_FINDING_ID])
    if p_abnormal >= high:
        return boxes.reshape(-1, 4), scores, labels
    keep = labels != NO_FINDING_ID
    return (np.concatenate([boxes.reshape(-1, 4)[keep], [NO_FINDING_BOX]]),
            np.concatenate([scores[keep], [1.0 - p_abnormal]]),
            np.concatenate([labels[keep], [NO_FINDING_ID]]).astype(np.int64))


def filter_submission(rows: Dict[str, Detections], probabilities: Dict[str, float], low: float = FILTER_LOW,
                      high: float = FILTER_HIGH, where: str = '') -> Dict[str, Detections]:
    """Apply :func:`two_class_filter` to every image; every image needs a probability."""
    check_filter_thresholds(low, high)
    missing = [i for i in rows if i not in probabilities]
    if missing:
        raise SubmissionError(f'{where}: no abnormality probability for {len(missing)} image(s), e.g. '
                              f'{missing[:5]}')
    return {i: two_class_filter(det, probabilities[i], low, high) for i, det in rows.items()}
