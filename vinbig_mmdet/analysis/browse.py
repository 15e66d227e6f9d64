"""Training images as the model sees them, with each reader's boxes and the fused targets drawn."""
from typing import Dict, List

import cv2
import numpy as np

from ..classes import CLASSES, PALETTE

_DASHES = [(12, 6), (4, 4), (20, 4, 4, 4), (8, 8), (2, 6)]  # one dash pattern per reader


def _dashed_rect(img, box, colour, pattern, thickness=1):
    x1, y1, x2, y2 = (int(round(v)) for v in box)
    corners = [(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)]
    for (ax, ay), (bx, by) in zip(corners, corners[1:]):
        length = max(abs(bx - ax), abs(by - ay))
        pos, k = 0, 0
        while pos < length:
            seg = pattern[k % len(pattern)]
            if k % 2 == 0:
                t0, t1 = pos / max(length, 1), min(pos + seg, length) / max(length, 1)
                p0 = (int(ax + (bx - ax) * t0), int(ay + (by - ay) * t0))
                p1 = (int(ax + (bx - ax) * t1), int(ay + (by - ay) * t1))
                cv2.line(img, p0, p1, colour, thickness)
            pos += seg
            k += 1


def map_boxes(boxes: np.ndarray, meta: Dict) -> np.ndarray:
    """Boxes of the loaded image -> the pipeline's output frame (Resize scale factor, then flips)."""
    boxes = np.asarray(boxes, np.float64).reshape(-1, 4).copy()
    sx, sy = meta.get('scale_factor', (1.0, 1.0))
    boxes *= np.array([sx, sy, sx, sy])
    h, w = meta['img_shape'][:2]
    if meta.get('flip'):
        direction = meta.get('flip_direction', 'horizontal')
        if direction in ('horizontal', 'diagonal'):
            boxes[:, [0, 2]] = w - boxes[:, [2, 0]]
        if direction in ('vertical', 'diagonal'):
            boxes[:, [1, 3]] = h - boxes[:, [3, 1]]
    return boxes


def draw_sample(image: np.ndarray, meta: Dict, fused: List[dict], readers: List[dict]) -> np.ndarray:
    """BGR picture: each reader's boxes dashed in its own pattern, fused targets solid and labelled on top."""
    img = np.ascontiguousarray(image.copy())
    reader_ids = list(dict.fromkeys(r['rad_id'] for r in readers))
    for r in readers:
        box = map_boxes(r['bbox'], meta)[0]
        red, green, blue = PALETTE[r['bbox_label']]
        _dashed_rect(img, box, (blue, green, red), _DASHES[reader_ids.index(r['rad_id']) % len(_DASHES)])
    for f in fused:
        x1, y1, x2, y2 = (int(round(v)) for v in f['bbox'])
        red, green, blue = PALETTE[f['label']]
        cv2.rectangle(img, (x1, y1), (x2, y2), (blue, green, red), 2)
        cv2.putText(img, CLASSES[f['label']], (x1 + 2, max(y1 - 4, 10)), cv2.FONT_HERSHEY_SIMPLEX, 0.4,
                    (blue, green, red), 1, cv2.LINE_AA)
    legend = 'fused: solid   ' + '   '.join(f'{r}: pattern {i + 1}' for i, r in enumerate(reader_ids))
    cv2.putText(img, legend, (4, img.shape[0] - 6), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1,
                cv2.LINE_AA)
    return img
