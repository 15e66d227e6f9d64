"""Radiographs with boxes drawn by MMDetection's DetLocalVisualizer (the drawing of ``tools/test.py --show-dir``):
predictions in their class colour and labelled, ground truth thin and white, each reader's boxes dashed in a
line style of its own. Every function returns a BGR array for ``cv2.imwrite``."""
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmdet.visualization import DetLocalVisualizer

from ..classes import CLASSES, NO_FINDING_ID, PALETTE

Size = Tuple[int, int]  # (width, height)
READER_LINE_STYLES = ['--', ':', '-.']  # one per reader (VinBigData: three readers per image)


def radiograph_rgb(gray: np.ndarray) -> np.ndarray:
    """An ``H x W`` (or ``H x W x 3``) 8-bit radiograph as the 3-channel RGB image the visualizer draws on."""
    gray = np.asarray(gray)
    if gray.dtype != np.uint8:
        raise ValueError(f'radiograph_rgb needs an 8-bit image, got {gray.dtype}')
    return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2) if gray.ndim == 2 else gray)


def _visualizer(image_rgb: np.ndarray) -> DetLocalVisualizer:
    # Built directly (not get_instance), so a runner's current visualizer stays the current one.
    visualizer = DetLocalVisualizer(name='vinbig_mmdet_draw')
    visualizer.set_image(image_rgb)
    return visualizer


# A label's extent in pixels for a font size in points (the visualizer's figure is at 100 dpi): a generous average
# glyph width and the line height with the label's padding, so that estimated boxes that do not touch never overlap.
_PT = 100 / 72
_GLYPH, _LINE, _PAD = 0.62, 1.25, 0.7


def label_extent(text: str, font_size: float) -> Tuple[float, float]:
    """(width, height) in pixels of a drawn label, padding included."""
    return ((_GLYPH * len(text) + 2 * _PAD) * font_size * _PT, (_LINE + 2 * _PAD) * font_size * _PT)


def _overlaps(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])


def place_labels(texts: Sequence[str], corners: np.ndarray, font_size: float, image_size: Size,
                 taken: Optional[List[np.ndarray]] = None) -> np.ndarray:
    """Top-left positions for ``texts`` wanted at ``corners`` such that no two labels overlap: boxes sharing a
    corner (ILD and Other lesion drawn from the same point) would otherwise write one label over the other. Each
    label keeps its place if free, else moves down or up by whole label heights, the nearest free place first,
    inside the image. ``taken``: rectangles (x0, y0, x1, y1) already used, extended with the new ones."""
    taken = [] if taken is None else taken
    width, height = image_size
    out = np.asarray(corners, np.float64).reshape(-1, 2).copy()
    for i, text in enumerate(texts):
        w, h = label_extent(text, font_size)
        x, y0 = float(np.clip(out[i, 0], 0, max(0.0, width - w))), float(np.clip(out[i, 1], 0, max(0.0, height - h)))
        rect = np.array([x, y0, x + w, y0 + h])
        for step in [0] + [s for k in range(1, 60) for s in (k, -k)]:
            y = y0 + step * h
            candidate = np.array([x, y, x + w, y + h])
            if (step == 0 or 0 <= y <= height - h) and not any(_overlaps(candidate, t) for t in taken):
                rect = candidate
                break
        taken.append(rect)
        out[i] = rect[:2]
    return out


def _labels(visualizer: DetLocalVisualizer, texts: Sequence[str], corners: np.ndarray, colours: list,
            font_size: int, taken: Optional[List[np.ndarray]] = None) -> None:
    if len(texts):
        image_size = (visualizer.width, visualizer.height)
        visualizer.draw_texts(list(texts), place_labels(texts, corners, font_size, image_size, taken),
                              font_sizes=font_size, colors='black',
                              bboxes=[dict(facecolor=[c / 255 for c in colour], alpha=0.8, pad=0.7,
                                           edgecolor='none') for colour in colours])


def _bgr(visualizer: DetLocalVisualizer) -> np.ndarray:
    return cv2.cvtColor(visualizer.get_image(), cv2.COLOR_RGB2BGR)


def draw_detections(gray: np.ndarray, detections: List[dict], max_side: int = 1280,
                    ground_truth: Optional[List[dict]] = None, box_size: Optional[Size] = None) -> np.ndarray:
    """The radiograph (at most ``max_side`` px) with each detection (``{class_id, class_name, score, box}``)
    drawn and labelled in its class colour; ground-truth boxes (same form, no score), if given, thin and white
    underneath. ``box_size``: the (width, height) the boxes refer to, when not the image's own (original pixels
    over a resized PNG)."""
    scale = min(1.0, max_side / max(gray.shape[:2]))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    visualizer = _visualizer(radiograph_rgb(small))
    bw, bh = box_size or gray.shape[1::-1]
    factors = np.array([small.shape[1] / bw, small.shape[0] / bh] * 2)
    width = max(2, int(round(max(small.shape[:2]) / 400)))
    font = max(8, int(round(max(small.shape[:2]) / 90)))
    truth = [g for g in ground_truth or [] if g['class_id'] != NO_FINDING_ID]
    taken: List[np.ndarray] = []  # every label's rectangle, ground truth and predictions alike
    if truth:
        boxes = np.array([g['box'] for g in truth], np.float64).reshape(-1, 4) * factors
        visualizer.draw_bboxes(boxes, edge_colors=(255, 255, 255), line_widths=1)
        texts = [f'GT {g["class_name"]}' for g in truth]
        visualizer.draw_texts(texts, place_labels(texts, boxes[:, [0, 3]], font, small.shape[1::-1], taken),
                              font_sizes=font, colors=(255, 255, 255),  # on dark, readable over bright findings
                              bboxes=dict(facecolor='black', alpha=0.6, pad=0.5, edgecolor='none'))
    found = [d for d in detections if d['class_id'] != NO_FINDING_ID]
    if found:
        boxes = np.array([d['box'] for d in found], np.float64).reshape(-1, 4) * factors
        colours = [PALETTE[d['class_id']] for d in found]
        visualizer.draw_bboxes(boxes, edge_colors=colours, line_widths=width)
        _labels(visualizer, [f'{d["class_name"]} {d["score"]:.2f}' for d in found], boxes[:, :2], colours, font,
                taken)
    return _bgr(visualizer)


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
    """A pipeline output (BGR, ``meta`` its metainfo): each reader's boxes (loaded-image pixels, ``rad_id``)
    dashed in the reader's own line style, the fused targets (output pixels) solid and labelled on top."""
    visualizer = _visualizer(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB))
    reader_ids = list(dict.fromkeys(r['rad_id'] for r in readers))
    if readers:
        visualizer.draw_bboxes(
            np.concatenate([map_boxes(r['bbox'], meta) for r in readers]),
            edge_colors=[PALETTE[r['bbox_label']] for r in readers], line_widths=1,
            line_styles=[READER_LINE_STYLES[reader_ids.index(r['rad_id']) % len(READER_LINE_STYLES)]
                         for r in readers])
    if fused:
        boxes = np.array([f['bbox'] for f in fused], np.float64).reshape(-1, 4)
        colours = [PALETTE[f['label']] for f in fused]
        visualizer.draw_bboxes(boxes, edge_colors=colours, line_widths=2)
        _labels(visualizer, [CLASSES[f['label']] for f in fused], boxes[:, :2], colours, 8)
    legend = 'fused: solid   ' + '   '.join(
        f'{r}: {READER_LINE_STYLES[i % len(READER_LINE_STYLES)]}' for i, r in enumerate(reader_ids))
    visualizer.draw_texts(legend, np.array([4, image.shape[0] - 4]), font_sizes=8, colors=(255, 255, 255),
                          vertical_alignments='bottom')
    return _bgr(visualizer)
