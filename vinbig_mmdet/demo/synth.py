"""A synthetic data set in VinBigData's exact formats, for the demo and the tests.

Layout written under ``out``::

    train/<image_id>.dicom    12-bit DICOMs, 1-2k px, non-square, MONOCHROME1 and 2, window tags, some JPEG 2000
    test/<image_id>.dicom
    train.csv                 Kaggle format: 3 readers per image, "No finding" rows, readers that disagree
    sample_submission.csv     Kaggle format: the test image ids
    test_annotations.csv      the test set's true boxes (demo only: Kaggle keeps these secret)

Each finding class has its own look and typical place (after VinDr-CXR's statistics) on a chest-like background,
so that a detector can learn them. Everything is deterministic for a given seed.
"""
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import pandas as pd

from ..classes import CLASSES, NO_FINDING_ID, NO_FINDING_NAME
from .dicom_writer import write_dicom

# class id -> (centre x, centre y, width, height) as fractions of the image, after the real statistics
# (centres from the median box centres, sizes a little larger than real for the small demo images).
CLASS_LAYOUT = {
    0: (0.56, 0.33, 0.12, 0.13), 1: (0.37, 0.42, 0.17, 0.15), 2: (0.56, 0.41, 0.08, 0.08),
    3: (0.56, 0.66, 0.40, 0.14), 4: (0.36, 0.48, 0.16, 0.16), 5: (0.43, 0.55, 0.18, 0.30),
    6: (0.39, 0.45, 0.16, 0.17), 7: (0.37, 0.51, 0.14, 0.14), 8: (0.43, 0.50, 0.07, 0.07),
    9: (0.42, 0.52, 0.11, 0.12), 10: (0.29, 0.74, 0.13, 0.12), 11: (0.41, 0.23, 0.11, 0.06),
    12: (0.31, 0.46, 0.20, 0.26), 13: (0.39, 0.38, 0.12, 0.11)}
# Relative frequency of each class among abnormal images (square root of the real image counts: flatter, so
# that every class appears in a small demo).
CLASS_WEIGHTS = np.sqrt(np.array([3067, 186, 452, 2300, 353, 386, 613, 1322, 826, 1134, 1032, 1981, 96, 1617.]))
READERS = ['R8', 'R9', 'R10'] * 4 + [f'R{i}' for i in range(1, 18) if i not in (8, 9, 10)]


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


def _sample_findings(rng: np.random.Generator, w: int, h: int) -> Tuple[np.ndarray, np.ndarray]:
    n = rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])
    labels = rng.choice(len(CLASSES), size=n, replace=False, p=CLASS_WEIGHTS / CLASS_WEIGHTS.sum())
    boxes = []
    for label in labels:
        cx, cy, bw, bh = CLASS_LAYOUT[int(label)]
        scale = rng.uniform(0.8, 1.25)
        bw, bh = bw * scale * w, bh * scale * h
        cx = (cx + rng.normal(0, 0.03)) * w
        cy = (cy + rng.normal(0, 0.03)) * h
        if label not in (0, 2, 3) and rng.random() < 0.35:  # lung findings appear on either side
            cx = w - cx
        x1, y1 = np.clip([cx - bw / 2, cy - bh / 2], 1, [w - bw - 1, h - bh - 1])
        boxes.append([x1, y1, x1 + bw, y1 + bh])
    return np.round(np.array(boxes)), labels.astype(np.int64)


def plan_dataset(n_train: int, n_test: int, seed: int, normal_frac: float = 0.7,
                 jpeg2000_frac: float = 0.2, monochrome1_frac: float = 0.3,
                 height_range: Tuple[int, int] = (1100, 1800)) -> List[SynthImage]:
    """Decide every image (size, findings, encoding) up front, so rendering can run in parallel."""
    rng = np.random.default_rng(seed)
    plan = []
    for k in range(n_train + n_test):
        h = int(rng.integers(*height_range))
        w = int(h * rng.uniform(0.82, 1.05))
        normal = rng.random() < normal_frac
        boxes, labels = (np.zeros((0, 4)), np.zeros(0, np.int64)) if normal else _sample_findings(rng, w, h)
        plan.append(SynthImage(
            image_id=rng.bytes(16).hex(), split='train' if k < n_train else 'test', width=w, height=h,
            boxes=boxes, labels=labels, seed=int(rng.integers(2**31)),
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


def reader_rows(item: SynthImage, rng: np.random.Generator, n_readers: int = 3,
                miss_rate: float = 0.15, jitter: float = 0.08) -> List[Dict[str, object]]:
    """train.csv rows of one image as ``n_readers`` radiologists who miss findings and draw loose boxes."""
    readers = list(dict.fromkeys(rng.choice(READERS, size=12)))[:n_readers]
    rows = []
    for reader in readers:
        if not len(item.labels):
            rows.append(dict(image_id=item.image_id, class_name=NO_FINDING_NAME, class_id=NO_FINDING_ID,
                             rad_id=reader, x_min=np.nan, y_min=np.nan, x_max=np.nan, y_max=np.nan))
            continue
        seen = rng.random(len(item.labels)) >= miss_rate
        if not seen.any():  # as in the real data, every reader of an abnormal image reports something
            seen[rng.integers(len(seen))] = True
        for box, label in zip(item.boxes[seen], item.labels[seen]):
            bw, bh = box[2] - box[0], box[3] - box[1]
            noisy = box + rng.normal(0, jitter, 4) * np.array([bw, bh, bw, bh])
            noisy = np.clip(np.round(noisy), 0, [item.width, item.height, item.width, item.height])
            if noisy[2] <= noisy[0] or noisy[3] <= noisy[1]:
                noisy = box
            rows.append(dict(image_id=item.image_id, class_name=CLASSES[label], class_id=int(label),
                             rad_id=reader, x_min=noisy[0], y_min=noisy[1], x_max=noisy[2], y_max=noisy[3]))
    return rows


def truth_rows(item: SynthImage) -> List[Dict[str, object]]:
    if not len(item.labels):
        return [dict(image_id=item.image_id, class_name=NO_FINDING_NAME, class_id=NO_FINDING_ID, rad_id='GT',
                     x_min=np.nan, y_min=np.nan, x_max=np.nan, y_max=np.nan)]
    return [dict(image_id=item.image_id, class_name=CLASSES[lab], class_id=int(lab), rad_id='GT',
                 x_min=b[0], y_min=b[1], x_max=b[2], y_max=b[3]) for b, lab in zip(item.boxes, item.labels)]


def make_demo_dataset(out: str, n_train: int = 200, n_test: int = 40, seed: int = 0, workers: Optional[int] = None,
                      progress: bool = True, **plan_kwargs) -> Dict[str, object]:
    """Write the whole synthetic data set under ``out`` (see the module docstring). Returns a summary."""
    out_path = Path(out)
    for split in ('train', 'test'):
        (out_path / split).mkdir(parents=True, exist_ok=True)
    plan = plan_dataset(n_train, n_test, seed, **plan_kwargs)
    from tqdm import tqdm
    with ProcessPoolExecutor(workers or os.cpu_count() or 1) as pool:
        futures = [pool.submit(_write, item, str(out_path)) for item in plan]
        for future in tqdm(futures, desc='demo DICOMs', unit='img', disable=not progress):
            future.result()
    rng = np.random.default_rng(seed + 12345)
    train = [i for i in plan if i.split == 'train']
    test = [i for i in plan if i.split == 'test']
    columns = ['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max', 'y_max']
    pd.DataFrame([r for i in train for r in reader_rows(i, rng)], columns=columns).to_csv(
        out_path / 'train.csv', index=False)
    pd.DataFrame([r for i in test for r in truth_rows(i)], columns=columns).to_csv(
        out_path / 'test_annotations.csv', index=False)
    pd.DataFrame({'image_id': [i.image_id for i in test], 'PredictionString': '14 1 0 0 1 1'}).to_csv(
        out_path / 'sample_submission.csv', index=False)
    return dict(n_train=len(train), n_test=len(test), n_abnormal=sum(1 for i in plan if len(i.labels)),
                n_jpeg2000=sum(1 for i in plan if i.transfer_syntax == 'jpeg2000'),
                n_monochrome1=sum(1 for i in plan if i.photometric == 'MONOCHROME1'), out=str(out_path))
