"""Single-study inference: radiographs in, boxes in original pixels and annotated pictures out."""
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

import cv2
import numpy as np

from ..classes import ALL_CLASSES, NO_FINDING_ID, PALETTE
from ..datasets.vinbig import IMAGE_SUFFIXES
from ..io import read_image


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


def predict_image(model, path: str, score_thr: float = 0.3) -> Tuple[Dict[str, object], np.ndarray]:
    """Detections of one radiograph in its original pixels (``{image_id, width, height, detections}``), and the
    grayscale image they refer to."""
    from mmdet.apis import inference_detector
    gray = read_image(path)
    pred = inference_detector(model, np.repeat(gray[:, :, None], 3, axis=2)).pred_instances
    detections = detection_dicts(pred.bboxes, pred.scores, pred.labels, score_thr)
    return dict(image_id=osp.splitext(osp.basename(path))[0], path=path, width=int(gray.shape[1]),
                height=int(gray.shape[0]), detections=detections), gray


def draw_detections(gray: np.ndarray, detections: List[dict], max_side: int = 1280,
                    ground_truth: Optional[List[dict]] = None) -> np.ndarray:
    """The radiograph (at most ``max_side`` px) with each box drawn and labelled in its class colour; ground-truth
    boxes (same dict form, no score), if given, thin and white underneath."""
    scale = min(1.0, max_side / max(gray.shape[:2]))
    img = cv2.cvtColor(cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA),
                       cv2.COLOR_GRAY2BGR)
    thick = max(2, int(round(max(img.shape[:2]) / 400)))
    for gt in ground_truth or []:
        x1, y1, x2, y2 = (int(round(v * scale)) for v in gt['box'])
        cv2.rectangle(img, (x1, y1), (x2, y2), (255, 255, 255), 1)
        cv2.putText(img, f'GT {gt["class_name"]}', (x1, min(y2 + 12, img.shape[0] - 2)), cv2.FONT_HERSHEY_SIMPLEX,
                    0.25 * thick, (255, 255, 255), 1, cv2.LINE_AA)
    for det in detections:
        if det['class_id'] == NO_FINDING_ID:
            continue
        r, g, b = PALETTE[det['class_id']]
        x1, y1, x2, y2 = (int(round(v * scale)) for v in det['box'])
        cv2.rectangle(img, (x1, y1), (x2, y2), (b, g, r), thick)
        label = f'{det["class_name"]} {det["score"]:.2f}'
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick / 2, 1)
        y_text = max(y1, th + 4)
        cv2.rectangle(img, (x1, y_text - th - 4), (x1 + tw + 2, y_text), (b, g, r), -1)
        cv2.putText(img, label, (x1 + 1, y_text - 3), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * thick / 2, (0, 0, 0), 1,
                    cv2.LINE_AA)
    return img
