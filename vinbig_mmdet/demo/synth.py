"""A synthetic data set in VinBigData's exact formats, for the demo and the tests.

Layout written under ``out``::

    train/<image_id>.dicom    12-bit DICOMs, 1-2k px, non-square, MONOCHROME1 and 2, window tags, some JPEG 2000
    test/<image_id>.dicom
    train.csv                 Kaggle format: 3 of 17 readers per image, "No finding" rows, readers that disagree
    sample_submission.csv     Kaggle format: the test image ids
    test_annotations.csv      the test set's true boxes (demo only: Kaggle keeps these secret)

What is drawn follows the real ``train.csv`` (``REAL_STATS``, the table in STACK.md): each class appears in the
same share of abnormal images, at its median centre and size relative to the image, and readers disagree as much
as the real ones do:

- presence: a reader reports a finding with a per-class rate solved from the real rows per image of the class
  (Atelectasis: 1.5 of 3 readers, Aortic enlargement: 2.3), times the reader's own sensitivity;
- class: findings of neighbouring classes (ILD / Pulmonary fibrosis / Infiltration / Lung Opacity /
  Consolidation / Atelectasis, Nodule/Mass / Other lesion) are sometimes reported as the neighbour
  (``CONFUSED_PAIRS``), rare classes more often than frequent ones;
- extent: every reader draws the box shifted and rescaled (more for classes with vague borders), with a personal
  bias towards larger or smaller boxes;
- "No finding" is unanimous: a normal image is normal for all three readers, and every reader of an abnormal
  image reports at least one finding (the most conspicuous one if they noticed nothing).

Each class keeps its own look on a chest-like background (what the real images do not offer, a detector trained
for minutes on a CPU needs). The test truth is every drawn finding, like Kaggle's 5-reader consensus.
Everything is deterministic for a given seed.
"""
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
import pandas as pd

from ..classes import CLASSES, NO_FINDING_ID, NO_FINDING_NAME
from ..structures.boxes import BOX_COLUMNS
from .dicom_writer import write_dicom

#: Kaggle's train.csv, per class: images with the class (any reader), rows (boxes of all readers), median box
#: width and height, median box centre x and y, in original pixels (STACK.md, "What the real annotations look
#: like"). 4,394 of the 15,000 images have findings.
REAL_STATS = {
    0: (3067, 7162, 293, 329, 1409, 922), 1: (186, 279, 529, 556, 947, 950), 2: (452, 960, 157, 178, 1406, 1042),
    3: (2300, 5427, 1061, 377, 1410, 1672), 4: (353, 556, 470, 521, 926, 1211), 5: (386, 1000, 562, 1026, 1106, 1392),
    6: (613, 1247, 469, 529, 1002, 1142), 7: (1322, 2483, 390, 404, 944, 1296), 8: (826, 2580, 102, 100, 1075, 1272),
    9: (1134, 2203, 296, 364, 1058, 1322), 10: (1032, 2476, 217, 287, 726, 1871),
    11: (1981, 4842, 232, 152, 1032, 610), 12: (96, 226, 704, 810, 774, 1177), 13: (1617, 4655, 299, 273, 998, 984)}
REAL_ABNORMAL_IMAGES = 4394
#: The typical real image (width, height) the medians are relative to (images are 2,000-3,000 px a side).
REAL_IMAGE_WH = (2600, 2800)

#: Mean number of separate findings of a class in an image that has it: nodules come in groups; thickening,
#: fibrosis, ILD, effusion and calcification are often on both sides.
INSTANCES = {8: 1.8, 11: 1.4, 13: 1.4, 5: 1.2, 10: 1.3, 2: 1.3}
#: Findings in the middle of the chest (aorta, heart) are never mirrored; the others sit in either lung.
CENTRAL = {0, 2, 3}
#: Neighbouring classes that readers confuse, and how often: the expected number of findings of ``a`` reported
#: as ``b`` equals that of ``b`` reported as ``a`` (CONFUSION x the rarer class's real rows), so confusion blurs
#: the labels without moving the class frequencies; a rare class is confused with a frequent one more often than
#: the reverse.
CONFUSED_PAIRS = [(5, 13), (5, 6), (6, 13), (6, 7), (6, 4), (7, 4), (4, 1), (7, 1), (8, 9)]
CONFUSION = 0.12
#: Classes with vague borders: readers' boxes differ more in extent.
DIFFUSE = {1, 4, 5, 6, 7, 9, 12, 13}
#: How much a reader's box departs from the finding: centre shift (fraction of the box size, standard deviation),
#: log-scale change of width and height, and the factor for diffuse classes.
BOX_SHIFT, BOX_SCALE, DIFFUSE_FACTOR = 0.11, 0.24, 1.3

#: 17 readers; R8, R9 and R10 read most images, as in the real data.
READER_IDS = [f'R{i}' for i in range(1, 18)]
READER_P = np.array([5.0 if r in ('R8', 'R9', 'R10') else 1.0 for r in READER_IDS])
READER_P /= READER_P.sum()


def _reader_styles(seed: int = 2021) -> Dict[str, Tuple[float, float]]:
    """Each reader's (sensitivity factor, box size factor): the same people in every generated set. Both average
    to 1 over the reads (weighted by how often each reader reads), so the per-class rates hold on average."""
    rng = np.random.default_rng(seed)
    sensitivity, size = np.exp(rng.normal(0, 0.15, len(READER_IDS))), np.exp(rng.normal(0, 0.1, len(READER_IDS)))
    sensitivity /= READER_P @ sensitivity
    size /= np.exp(READER_P @ np.log(size))
    return {r: (float(a), float(b)) for r, a, b in zip(READER_IDS, sensitivity, size)}


READER_STYLE = _reader_styles()


def _report_rate(rows_per_image: float, instances: float) -> float:
    """The rate at which one reader reports a finding as its class, such that the expected rows per image
    having the class (3 readers, ``instances`` findings) equals the real ``rows_per_image``."""
    def expected(s):
        return 3 * s * instances / (1 - (1 - s) ** (3 * instances))
    lo, hi = 0.02, 0.97
    if expected(hi) <= rows_per_image:
        return hi
    for _ in range(50):  # expected() increases with s: bisection
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if expected(mid) < rows_per_image else (lo, mid)
    return (lo + hi) / 2


def _confusion_matrix() -> np.ndarray:
    """(14, 14): probability that a noticed finding of class row is reported as class column."""
    rows = np.array([REAL_STATS[c][1] for c in range(len(CLASSES))], np.float64)
    matrix = np.zeros((len(CLASSES), len(CLASSES)))
    for a, b in CONFUSED_PAIRS:
        flow = CONFUSION * min(rows[a], rows[b])
        matrix[a, b], matrix[b, a] = flow / rows[a], flow / rows[b]
    matrix[np.diag_indices_from(matrix)] = 1 - matrix.sum(axis=1)
    return matrix


CONFUSION_MATRIX = _confusion_matrix()
_INSTANCES = np.array([INSTANCES.get(c, 1.0) for c in range(len(CLASSES))])
#: Per class: the rate at which a reader notices a finding (solved from the real rows per image, confusion flows
#: in and out in equal measure), and the share of abnormal images that truly have the class (so that the share
#: where any reader reports it is the real one).
NOTICE_RATE = np.array([_report_rate(REAL_STATS[c][1] / REAL_STATS[c][0], _INSTANCES[c])
                        for c in range(len(CLASSES))])


def _true_frequency(n_iter: int = 30) -> np.ndarray:
    """The share of abnormal images that truly have each class, such that the share in which any of the three
    readers reports it (noticed as itself, or a neighbour's finding reported as it) is the real one."""
    target = np.array([REAL_STATS[c][0] / REAL_ABNORMAL_IMAGES for c in range(len(CLASSES))])
    # probability that some reader reports class b for an image that has class a (per image, k findings)
    reach = 1 - (1 - NOTICE_RATE[:, None] * CONFUSION_MATRIX) ** (3 * _INSTANCES[:, None])
    true = target.copy()
    for _ in range(n_iter):
        off = ~np.eye(len(CLASSES), dtype=bool)
        inflow = 1 - np.prod(1 - np.where(off, true[:, None] * reach, 0), axis=0)  # from the other classes
        true = np.clip((target - inflow) / np.maximum(np.diag(reach) - inflow, 1e-3), 0.002, 1.0)
    return true


TRUE_FREQUENCY = _true_frequency()


@dataclass
class SynthImage:
    image_id: str
    split: str
    width: int
    height: int
    boxes: np.ndarray   # (N, 4) true boxes, original pixels
    labels: np.ndarray  # (N,)
    seed: int
    photometric: str
    transfer_syntax: str


def _background(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """Attenuation map in [0, 1] (1 = dense/bright): soft tissue, two lungs, mediastinum, spine, heart, ribs."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    x, y = xx / w, yy / h
    att = 0.55 + 0.1 * y + 0.02 * rng.standard_normal()
    for side in (-1, 1):  # lungs: dark ellipses
        cx = 0.5 + side * (0.2 + 0.02 * rng.standard_normal())
        lung = ((x - cx) / 0.17) ** 2 + ((y - 0.48) / 0.33) ** 2
        att -= 0.35 * np.clip(1.2 - lung, 0, 1) ** 0.5
    att += 0.25 * np.exp(-((x - 0.5) / 0.045) ** 2)  # spine / mediastinum
    att += 0.12 * np.exp(-((x - 0.55) / 0.12) ** 2 - ((y - 0.66) / 0.1) ** 2)  # normal heart shadow
    phase = rng.uniform(0, 2 * np.pi)
    att += 0.04 * np.clip(np.sin(2 * np.pi * (y * 9 + 0.8 * np.abs(x - 0.5)) + phase), 0, 1) ** 4  # ribs
    att = cv2.GaussianBlur(att, (0, 0), 3)
    return np.clip(att, 0, 1)


def _draw_finding(att: np.ndarray, label: int, box: np.ndarray, rng: np.random.Generator) -> None:
    """Draw one finding of class ``label`` inside ``box`` (in place). Each class has its own pattern."""
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    patch = np.zeros((y2 - y1, x2 - x1), np.float32)
    ph, pw = patch.shape
    c, axes = (pw // 2, ph // 2), (max(pw // 2 - 1, 1), max(ph // 2 - 1, 1))
    yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
    r2 = ((xx - c[0]) / axes[0]) ** 2 + ((yy - c[1]) / axes[1]) ** 2
    inside = r2 <= 1
    t = max(2, min(ph, pw) // 12)  # stroke thickness
    if label == 0:  # aortic enlargement: bright solid disc
        patch[inside] = 0.45
    elif label == 1:  # atelectasis: stack of horizontal plate-like lines
        for k in range(1, 5):
            cv2.line(patch, (0, k * ph // 5), (pw - 1, k * ph // 5 + ph // 10), 0.4, t)
    elif label == 2:  # calcification: cluster of small very bright dots
        for _ in range(7):
            cv2.circle(patch, (int(rng.uniform(0.2, 0.8) * pw), int(rng.uniform(0.2, 0.8) * ph)),
                       max(2, pw // 10), 0.7, -1)
    elif label == 3:  # cardiomegaly: wide bright ellipse
        patch[inside] = 0.3
    elif label == 4:  # consolidation: dense blob with soft edge
        patch[:] = 0.45 * np.clip(1.3 - r2, 0, 1)
    elif label == 5:  # ILD: reticular mesh
        for k in range(0, pw, max(4, pw // 8)):
            cv2.line(patch, (k, 0), (k, ph - 1), 0.35, t)
        for k in range(0, ph, max(4, ph // 12)):
            cv2.line(patch, (0, k), (pw - 1, k), 0.35, t)
    elif label == 6:  # infiltration: patchy blotches
        noise = cv2.GaussianBlur(rng.random((ph, pw)).astype(np.float32), (0, 0), max(pw / 16, 1))
        patch[:] = np.where(noise > np.median(noise), 0.4, 0.0) * inside
    elif label == 7:  # lung opacity: flat uniform square haze
        patch[t:-t, t:-t] = 0.3
    elif label == 8:  # nodule/mass: small sharp very bright disc
        patch[inside] = 0.6
    elif label == 9:  # other lesion: ring
        cv2.ellipse(patch, c, axes, 0, 0, 360, 0.5, 2 * t)
    elif label == 10:  # pleural effusion: bright triangle filling the costophrenic angle
        cv2.fillPoly(patch, [np.array([[0, ph - 1], [pw - 1, ph - 1], [0, 0]], np.int32)], 0.45)
    elif label == 11:  # pleural thickening: thick bright cap line
        cv2.ellipse(patch, (c[0], ph - 1), (axes[0], ph - 2), 0, 180, 360, 0.55, 2 * t)
    elif label == 12:  # pneumothorax: very dark region with a visible pleural line
        patch[inside] = -0.35
        cv2.ellipse(patch, c, axes, 0, 0, 360, 0.4, t)
    elif label == 13:  # pulmonary fibrosis: diagonal streaks
        for k in range(-ph, pw, max(4, pw // 6)):
            cv2.line(patch, (k, ph - 1), (k + ph, 0), 0.4, t)
    att[y1:y2, x1:x2] += patch


def _stochastic_round(rng: np.random.Generator, x: float) -> int:
    return int(np.floor(x) + (rng.random() < x - np.floor(x)))


def _assign_classes(rng: np.random.Generator, n_abnormal: int) -> List[List[int]]:
    """The classes of each abnormal image: class c goes to ``TRUE_FREQUENCY[c]`` of the images, exactly up to
    rounding (so that even a small set keeps the real ranking); an image left with none gets one class."""
    classes: List[List[int]] = [[] for _ in range(n_abnormal)]
    for c in range(len(CLASSES)):
        for k in rng.choice(n_abnormal, _stochastic_round(rng, TRUE_FREQUENCY[c] * n_abnormal), replace=False):
            classes[k].append(c)
    for image in classes:
        if not image:
            image.append(int(rng.choice(len(CLASSES), p=TRUE_FREQUENCY / TRUE_FREQUENCY.sum())))
    return classes


def _finding_box(rng: np.random.Generator, label: int, w: int, h: int, centre: Optional[Tuple[float, float]] = None
                 ) -> List[float]:
    """One finding's box: the class's real median size relative to the image (log-normal spread) around the
    real median centre (mirrored to the other lung 40% of the time) or around ``centre`` (fractions)."""
    _, _, mw, mh, mx, my = REAL_STATS[label]
    rw, rh = REAL_IMAGE_WH
    scale, aspect = np.exp(rng.normal(0, 0.25)), np.exp(rng.normal(0, 0.12))
    bw, bh = mw / rw * scale * aspect * w, mh / rh * scale / aspect * h
    if centre is None:
        cx, cy = mx / rw + rng.normal(0, 0.03), my / rh + rng.normal(0, 0.03)
        if label not in CENTRAL and rng.random() < 0.4:
            cx = 1 - cx
    else:
        cx, cy = centre
    bw, bh = min(max(bw, 4.0), 0.9 * w), min(max(bh, 4.0), 0.9 * h)
    x1, y1 = np.clip([cx * w - bw / 2, cy * h - bh / 2], 1, [w - bw - 1, h - bh - 1])
    return [x1, y1, x1 + bw, y1 + bh]


def _place_findings(rng: np.random.Generator, classes: Sequence[int], w: int, h: int
                    ) -> Tuple[np.ndarray, np.ndarray]:
    """True boxes and labels of one abnormal image with the given classes (several instances for some)."""
    boxes, labels = [], []
    for label in classes:
        first = _finding_box(rng, label, w, h)
        boxes.append(first)
        labels.append(label)
        extra = INSTANCES.get(label, 1.0) - 1
        if label == 8:  # more nodules anywhere in the lungs
            for _ in range(min(rng.poisson(extra), 3)):
                side = rng.choice([0.32, 0.68])
                boxes.append(_finding_box(rng, label, w, h, (side + rng.normal(0, 0.06), rng.uniform(0.3, 0.7))))
                labels.append(label)
        elif extra > 0 and rng.random() < extra:  # the same finding on the other side
            cx, cy = (first[0] + first[2]) / 2 / w, (first[1] + first[3]) / 2 / h
            boxes.append(_finding_box(rng, label, w, h, (1 - cx + rng.normal(0, 0.02), cy + rng.normal(0, 0.03))))
            labels.append(label)
    return np.round(np.array(boxes)), np.array(labels, np.int64)


def plan_dataset(n_train: int, n_test: int, seed: int, normal_frac: float = 0.7,
                 jpeg2000_frac: float = 0.2, monochrome1_frac: float = 0.3,
                 height_range: Tuple[int, int] = (1100, 1800)) -> List[SynthImage]:
    """Decide every image (size, findings, encoding) up front, so rendering can run in parallel. Each split has
    ``normal_frac`` "No finding" images (rounded) and the real class frequencies among the others."""
    rng = np.random.default_rng(seed)
    plan = []
    for split, n in (('train', n_train), ('test', n_test)):
        n_abnormal = int(round(n * (1 - normal_frac)))
        abnormal = np.zeros(n, bool)
        abnormal[rng.choice(n, n_abnormal, replace=False)] = True
        classes = iter(_assign_classes(rng, n_abnormal))
        for k in range(n):
            h = int(rng.integers(*height_range))
            w = int(h * rng.uniform(0.82, 1.05))
            boxes, labels = (_place_findings(rng, next(classes), w, h) if abnormal[k]
                             else (np.zeros((0, 4)), np.zeros(0, np.int64)))
            plan.append(SynthImage(
                image_id=rng.bytes(16).hex(), split=split, width=w, height=h, boxes=boxes, labels=labels,
                seed=int(rng.integers(2**31)),
                photometric='MONOCHROME1' if rng.random() < monochrome1_frac else 'MONOCHROME2',
                transfer_syntax='jpeg2000' if rng.random() < jpeg2000_frac else 'explicit'))
    return plan


def render_image(item: SynthImage) -> np.ndarray:
    """The 12-bit stored pixel values of one planned image."""
    rng = np.random.default_rng(item.seed)
    att = _background(rng, item.height, item.width)
    for box, label in zip(item.boxes, item.labels):
        _draw_finding(att, int(label), box, rng)
    att += rng.normal(0, 0.015, att.shape).astype(np.float32)
    stored = 300 + np.clip(att, -0.2, 1.4) * 2600  # stays inside 12 bits
    if item.photometric == 'MONOCHROME1':
        stored = 4095 - stored
    return np.clip(np.rint(stored), 0, 4095).astype(np.uint16)


def _write(item: SynthImage, out: str) -> str:
    stored = render_image(item)
    centre = 300 + 2600 * 0.55 + np.random.default_rng(item.seed + 1).normal(0, 60)
    if item.photometric == 'MONOCHROME1':
        centre = 4095 - centre
    path = os.path.join(out, item.split, f'{item.image_id}.dicom')
    write_dicom(path, stored, photometric=item.photometric, bits_stored=12, window=(centre, 2900),
                transfer_syntax=item.transfer_syntax, image_id=item.image_id)
    return path


def _reader_box(rng: np.random.Generator, box: np.ndarray, label: int, size_bias: float, w: int, h: int
                ) -> np.ndarray:
    """How one reader draws a finding's box: shifted and rescaled, more for vague findings."""
    spread = DIFFUSE_FACTOR if label in DIFFUSE else 1.0
    bw, bh = box[2] - box[0], box[3] - box[1]
    cx = (box[0] + box[2]) / 2 + rng.normal(0, BOX_SHIFT * spread) * bw
    cy = (box[1] + box[3]) / 2 + rng.normal(0, BOX_SHIFT * spread) * bh
    bw, bh = np.array([bw, bh]) * size_bias * np.exp(rng.normal(0, BOX_SCALE * spread, 2))
    drawn = np.round([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2])
    drawn = np.clip(drawn, 0, [w - 2, h - 2, w, h])
    drawn[2:] = np.maximum(drawn[2:], drawn[:2] + 2)
    return drawn


def reader_rows(item: SynthImage, rng: np.random.Generator, n_readers: int = 3) -> List[Dict[str, object]]:
    """train.csv rows of one image as ``n_readers`` radiologists (module docstring: presence, class, extent)."""
    readers = rng.choice(READER_IDS, size=n_readers, replace=False, p=READER_P)
    rows = []
    for reader in readers:
        if not len(item.labels):
            rows.append(dict(image_id=item.image_id, class_name=NO_FINDING_NAME, class_id=NO_FINDING_ID,
                             rad_id=reader, x_min=np.nan, y_min=np.nan, x_max=np.nan, y_max=np.nan))
            continue
        sensitivity, size_bias = READER_STYLE[reader]
        rates = NOTICE_RATE[item.labels]
        seen = rng.random(len(item.labels)) < np.minimum(rates * sensitivity, 0.98)
        reported = [rng.choice(len(CLASSES), p=CONFUSION_MATRIX[c]) for c in item.labels]
        if not seen.any():  # as in the real data, every reader of an abnormal image reports something
            seen[np.argmax(rates + 1e-3 * rng.random(len(rates)))] = True
        for k in np.flatnonzero(seen):
            box = _reader_box(rng, item.boxes[k], int(item.labels[k]), size_bias, item.width, item.height)
            label = int(reported[k])
            rows.append(dict(image_id=item.image_id, class_name=CLASSES[label], class_id=label, rad_id=reader,
                             x_min=box[0], y_min=box[1], x_max=box[2], y_max=box[3]))
    return rows


def truth_rows(item: SynthImage) -> List[Dict[str, object]]:
    if not len(item.labels):
        return [dict(image_id=item.image_id, class_name=NO_FINDING_NAME, class_id=NO_FINDING_ID, rad_id='GT',
                     x_min=np.nan, y_min=np.nan, x_max=np.nan, y_max=np.nan)]
    return [dict(image_id=item.image_id, class_name=CLASSES[lab], class_id=int(lab), rad_id='GT',
                 x_min=b[0], y_min=b[1], x_max=b[2], y_max=b[3]) for b, lab in zip(item.boxes, item.labels)]


COLUMNS = ['image_id', 'class_name', 'class_id', 'rad_id', *BOX_COLUMNS]  # Kaggle's train.csv


def reader_annotations(plan: Sequence[SynthImage], seed: int) -> pd.DataFrame:
    """train.csv of the planned training images (the readers), without rendering anything."""
    rng = np.random.default_rng(seed + 12345)
    return pd.DataFrame([r for i in plan if i.split == 'train' for r in reader_rows(i, rng)], columns=COLUMNS)


#: The default demo set (tools/make_demo_data.py, make demo).
DEFAULT_N_TRAIN, DEFAULT_N_TEST, DEFAULT_SEED = 200, 40, 0


def make_demo_dataset(out: str, n_train: int = DEFAULT_N_TRAIN, n_test: int = DEFAULT_N_TEST,
                      seed: int = DEFAULT_SEED, workers: Optional[int] = None, progress: bool = True,
                      **plan_kwargs) -> Dict[str, object]:
    """Write the whole synthetic data set under ``out`` (see the module docstring). Returns a summary."""
    out_path = Path(out)
    for split in ('train', 'test'):
        (out_path / split).mkdir(parents=True, exist_ok=True)
    plan = plan_dataset(n_train, n_test, seed, **plan_kwargs)
    from ..progress import progress_bar
    with ProcessPoolExecutor(workers or os.cpu_count() or 1) as pool:
        futures = [pool.submit(_write, item, str(out_path)) for item in plan]
        for future in progress_bar(futures, desc='demo DICOMs', unit='img', disable=not progress):
            future.result()
    test = [i for i in plan if i.split == 'test']
    reader_annotations(plan, seed).to_csv(out_path / 'train.csv', index=False)
    pd.DataFrame([r for i in test for r in truth_rows(i)], columns=COLUMNS).to_csv(
        out_path / 'test_annotations.csv', index=False)
    pd.DataFrame({'image_id': [i.image_id for i in test], 'PredictionString': '14 1 0 0 1 1'}).to_csv(
        out_path / 'sample_submission.csv', index=False)
    return dict(n_train=len(plan) - len(test), n_test=len(test), n_abnormal=sum(1 for i in plan if len(i.labels)),
                n_jpeg2000=sum(1 for i in plan if i.transfer_syntax == 'jpeg2000'),
                n_monochrome1=sum(1 for i in plan if i.photometric == 'MONOCHROME1'), out=str(out_path))
