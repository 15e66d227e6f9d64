"""Single-study inference: radiographs in, boxes in original pixels out (the steps behind VinBigInferencer)."""
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

from ..classes import ALL_CLASSES, DRAW_SCORE_THR
from ..datasets.annotations import read_sizes
from ..datasets.vinbig import sizes_file_candidates
from ..errors import require_path
from ..evaluation.submission import to_original_pixels
from ..io import IMAGE_SUFFIXES, is_dicom_path, read_image

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


def detection_dicts(boxes, scores, labels, score_thr: float = DRAW_SCORE_THR) -> List[dict]:
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


def predict_image(model, path: str, score_thr: float = DRAW_SCORE_THR, original_size: Optional[Size] = None
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
