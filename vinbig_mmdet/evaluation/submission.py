"""Kaggle submission rows: model output -> original DICOM pixels -> ``class score x_min y_min x_max y_max ...``."""
import csv
from typing import Dict, Iterable, Sequence, Tuple

import numpy as np
import pandas as pd

from ..classes import NO_FINDING_ID
from ..io.atomic import atomic_open
from .kaggle_map import NO_FINDING_BOX

Detections = Tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (N, 4), scores (N,), labels (N,)
NO_FINDING_MODES = ('1-max', 'empty')


def to_original_pixels(boxes: np.ndarray, loaded_hw: Sequence[int], original_wh: Sequence[int]) -> np.ndarray:
    """Scale boxes from the loaded image (height, width) to the original image (width, height), clipped."""
    h, w = loaded_hw[:2]
    ow, oh = original_wh
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4) * np.array([ow / w, oh / h, ow / w, oh / h])
    return np.clip(boxes, 0, np.array([ow, oh, ow, oh], dtype=np.float64))


def select_detections(boxes, scores, labels, score_thr: float = 0.0, max_per_img: int = 100,
                      no_finding: str = '1-max') -> Detections:
    """Keep the ``max_per_img`` best detections above ``score_thr`` and add the class-14 prediction.

    ``no_finding='1-max'`` appends ``14 (1 - best score) 0 0 1 1`` to every image (so an image with nothing found
    gets ``14 1 0 0 1 1``, and likely-normal images rank high for class 14); ``'empty'`` adds ``14 1 0 0 1 1`` only
    where nothing is found.
    """
    if no_finding not in NO_FINDING_MODES:
        raise ValueError(f'no_finding must be one of {NO_FINDING_MODES}, got {no_finding!r}')
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
    scores, labels = np.asarray(scores, np.float64), np.asarray(labels, np.int64)
    keep = (scores >= score_thr) & (labels != NO_FINDING_ID)
    boxes, scores, labels = boxes[keep], scores[keep], labels[keep]
    order = np.argsort(-scores, kind='stable')[:max_per_img]
    boxes, scores, labels = boxes[order], scores[order], labels[order]
    best = float(scores[0]) if len(scores) else 0.0
    if no_finding == '1-max' or not len(scores):
        boxes = np.concatenate([boxes, np.array([NO_FINDING_BOX])])
        scores = np.concatenate([scores, [1.0 - best]])
        labels = np.concatenate([labels, [NO_FINDING_ID]])
    return boxes, scores, labels


def _compact(value: float, decimals: int) -> str:
    text = f'{float(value):.{decimals}f}'.rstrip('0').rstrip('.')
    return '0' if text in ('', '-0') else text


def format_prediction_string(boxes, scores, labels) -> str:
    """``class score x_min y_min x_max y_max ...`` with 4-decimal scores and 0.1 px boxes, trailing zeros
    dropped (so "No finding" reads ``14 1 0 0 1 1``)."""
    parts = []
    for box, s, c in zip(np.asarray(boxes).reshape(-1, 4), scores, labels):
        parts.append(' '.join([str(int(c)), _compact(s, 4)] + [_compact(v, 1) for v in box]))
    return ' '.join(parts) if parts else f'{NO_FINDING_ID} 1 0 0 1 1'


def parse_prediction_string(text, where: str = '') -> Detections:
    """Inverse of :func:`format_prediction_string`; an empty string is an image with no prediction."""
    tokens = str(text).split() if isinstance(text, str) else []
    if len(tokens) % 6:
        raise ValueError(f'{where}: PredictionString has {len(tokens)} values, not a multiple of 6 '
                         f'(class score x_min y_min x_max y_max)')
    try:
        values = np.array(tokens, dtype=np.float64).reshape(-1, 6)
    except ValueError as exc:
        raise ValueError(f'{where}: non-numeric value in PredictionString ({exc})') from exc
    return values[:, 2:6], values[:, 1], values[:, 0].astype(np.int64)


def read_submission(path: str) -> Dict[str, Detections]:
    df = pd.read_csv(path, dtype={'image_id': str, 'PredictionString': str}, keep_default_na=False)
    missing = {'image_id', 'PredictionString'} - set(df.columns)
    if missing:
        raise ValueError(f'{path}: missing column(s) {sorted(missing)}; expected image_id,PredictionString')
    dup = df['image_id'].duplicated()
    if dup.any():
        lines = (np.nonzero(dup.to_numpy())[0] + 2)[:5].tolist()
        raise ValueError(f'{path}: image_id repeated on line(s) {lines}')
    return {img_id: parse_prediction_string(s, f'{path} line {n + 2}')
            for n, (img_id, s) in enumerate(zip(df['image_id'], df['PredictionString']))}


def write_submission(path: str, rows: Iterable[Tuple[str, str]]) -> int:
    """Write ``image_id,PredictionString`` atomically (temporary file, fsync, rename). Returns the row count."""
    n = 0
    with atomic_open(path, 'w') as f:
        writer = csv.writer(f)
        writer.writerow(['image_id', 'PredictionString'])
        for img_id, text in rows:
            writer.writerow([img_id, text])
            n += 1
    return n


def read_abnormal_probabilities(path: str) -> Dict[str, float]:
    """image_id -> probability that the image is abnormal, from a CSV of image_id and one probability column
    (named prob, probability, p_abnormal or target, or the only other column)."""
    df = pd.read_csv(path, dtype={'image_id': str})
    if 'image_id' not in df.columns:
        raise ValueError(f'{path}: no image_id column')
    named = [c for c in ('prob', 'probability', 'p_abnormal', 'target') if c in df.columns]
    others = [c for c in df.columns if c != 'image_id']
    column = named[0] if named else (others[0] if len(others) == 1 else None)
    if column is None:
        raise ValueError(f'{path}: cannot tell the probability column among {others}; name it "prob"')
    p = pd.to_numeric(df[column], errors='coerce')
    bad = p.isna() | (p < 0) | (p > 1)
    if bad.any():
        raise ValueError(f'{path}: {int(bad.sum())} probabilities missing or outside [0, 1], at line(s) '
                         f'{(np.nonzero(bad.to_numpy())[0] + 2)[:5].tolist()}')
    return dict(zip(df['image_id'], p.astype(float)))


def two_class_filter(det: Detections, p_abnormal: float, low: float = 0.08, high: float = 0.95) -> Detections:
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


def filter_submission(rows: Dict[str, Detections], probabilities: Dict[str, float], low: float = 0.08,
                      high: float = 0.95, where: str = '') -> Dict[str, Detections]:
    """Apply :func:`two_class_filter` to every image; every image needs a probability."""
    missing = [i for i in rows if i not in probabilities]
    if missing:
        raise ValueError(f'{where}: no abnormality probability for {len(missing)} image(s), e.g. {missing[:5]}')
    return {i: two_class_filter(det, probabilities[i], low, high) for i, det in rows.items()}
