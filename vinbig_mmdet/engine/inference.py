"""Single-study inference: radiographs in, boxes in original pixels and annotated pictures out."""
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

import cv2
import numpy as np

from ..classes import ALL_CLASSES, NO_FINDING_ID, PALETTE
from ..datasets.annotations import read_sizes
from ..datasets.vinbig import IMAGE_SUFFIXES, sizes_file_candidates
from ..errors import require_path
from ..evaluation.submission import to_original_pixels
from ..io import is_dicom_path, read_image

Size = Tuple[int, int]  # (width, height)


def collect_inputs(inputs: Iterable[str]) -> List[str]:
    """Image files from files and folders (DICOM, PNG, JPEG), in a stable order."""
    files = []
    for item in inputs:
        if osp.isdir(item):
            files += sorted(osp.join(item, f) for f in os.listdir(item) if f.lower().endswith(IMAGE_SUFFIXES))
        elif osp.isfile(item):
            files.append(item)
        else:
            raise FileNotFoundError(f'{item}: no such file or folder')
    return files


def detection_dicts(boxes, scores, labels, score_thr: float = 0.3) -> List[dict]:
    """``[{class_id, class_name, score, box}]`` of the detections scored >= ``score_thr``, best first."""
    boxes, scores, labels = (x.cpu().numpy() if hasattr(x, 'cpu') else np.asarray(x)
                             for x in (boxes, scores, labels))
    detections = [dict(class_id=int(c), class_name=ALL_CLASSES[int(c)], score=round(float(s), 4),
                       box=[round(float(v), 1) for v in b])
                  for b, s, c in zip(boxes.reshape(-1, 4), scores, labels) if s >= score_thr]
    return sorted(detections, key=lambda d: -d['score'])


def original_sizes(paths: Iterable[str], meta_file: Optional[str] = None) -> Dict[str, Size]:
    """image_id -> original (DICOM) size for resized inputs (PNG/JPEG): from ``meta_file``, else from the sizes
    files found by their usual names beside each input folder (``meta.csv``, ``<folder>_meta.csv``)."""
    if meta_file:
        require_path(meta_file, 'give the CSV of original sizes (image_id,width,height or image_id,dim0,dim1)')
        return read_sizes(meta_file)
    folders = dict.fromkeys(osp.dirname(osp.abspath(p)) for p in paths if not is_dicom_path(p))
    sizes: Dict[str, Size] = {}
    for found in (f for folder in folders for f in sizes_file_candidates(folder) if osp.isfile(f)):
        sizes.update({k: v for k, v in read_sizes(found).items() if k not in sizes})
    return sizes


def predict_image(model, path: str, score_thr: float = 0.3, original_size: Optional[Size] = None
                  ) -> Tuple[Dict[str, object], np.ndarray]:
    """Detections of one radiograph (``{image_id, path, width, height, pixels, detections}``) and the grayscale
    image it was read as.

    Boxes are in original pixels (``pixels='original'``) for DICOMs and for resized images whose
    ``original_size`` (width, height) is given; otherwise in the file's own pixels (``pixels='image'``)."""
    from mmdet.apis import inference_detector
    gray = read_image(path)
    pred = inference_detector(model, np.repeat(gray[:, :, None], 3, axis=2)).pred_instances
    h, w = gray.shape[:2]
    boxes = pred.bboxes.cpu().numpy() if hasattr(pred.bboxes, 'cpu') else np.asarray(pred.bboxes)
    if is_dicom_path(path) or original_size is None:
        width, height = w, h
        pixels = 'original' if is_dicom_path(path) else 'image'
    else:
        width, height = (int(v) for v in original_size)
        boxes = to_original_pixels(boxes, (h, w), (width, height))
        pixels = 'original'
    detections = detection_dicts(boxes, pred.scores, pred.labels, score_thr)
    return dict(image_id=osp.splitext(osp.basename(path))[0], path=path, width=width, height=height,
                pixels=pixels, image_size=[w, h], detections=detections), gray


def draw_detections(gray: np.ndarray, detections: List[dict], max_side: int = 1280,
                    ground_truth: Optional[List[dict]] = None, box_size: Optional[Size] = None) -> np.ndarray:
    """The radiograph (at most ``max_side`` px) with each box drawn and labelled in its class colour; ground-truth
    boxes (same dict form, no score), if given, thin and white underneath. ``box_size``: the (width, height) the
    boxes refer to, when not the image's own (original pixels over a resized PNG)."""
    scale = min(1.0, max_side / max(gray.shape[:2]))
    img = cv2.cvtColor(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
                       cv2.COLOR_GRAY2BGR)
    bw, bh = box_size or gray.shape[1::-1]
    sx, sy = scale * gray.shape[1] / bw, scale * gray.shape[0] / bh
    thick = max(2, int(round(max(img.shape[:2]) / 400)))

    def corners(box):
        return (int(round(v * f)) for v, f in zip(box, (sx, sy, sx, sy)))

    for gt in ground_truth or []:
        x1, y1, x2, y2 = corners(gt['box'])
        cv2.rectangle(img, (x1, y1), (x2, y2), (255, 255, 255), 1)
        cv2.putText(img, f'GT {gt["class_name"]}', (x1, min(y2 + 12, img.shape[0] - 2)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.25 * thick, (255, 255, 255), 1, cv2.LINE_AA)
    for det in detections:
        if det['class_id'] == NO_FINDING_ID:
            continue
        r, g, b = PALETTE[det['class_id']]
        x1, y1, x2, y2 = corners(det['box'])
        cv2.rectangle(img, (x1, y1), (x2, y2), (b, g, r), thick)
        label = f'{det["class_name"]} {det["score"]:.2f}'
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick / 2, 1)
        y_text = max(y1, th + 4)
        cv2.rectangle(img, (x1, y_text - th - 4), (x1 + tw + 2, y_text), (b, g, r), -1)
        cv2.putText(img, label, (x1 + 1, y_text - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick / 2, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return img
