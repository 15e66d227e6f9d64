"""Ground truth for offline scoring, from any CSV in train.csv format (original pixel coordinates)."""
from typing import Collection, Dict, Optional, Tuple

import numpy as np
import pandas as pd

from ..datasets.annotations import read_annotations, sizes_from_frame
from ..datasets.fusion import fuse_readers
from ..datasets.vinbig import group_findings
from ..errors import require_path


def ground_truth_from_csv(path: str, fusion: str = 'wbf', iou_thr: float = 0.4,
                          image_ids: Optional[Collection[str]] = None) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """image_id -> (boxes, labels); readers' boxes fused with ``fusion`` ('wbf', 'nms' or 'none').

    Images whose rows are all "No finding" get no boxes (the metric turns them into class 14). ``image_ids``:
    only these images (e.g. one fold)."""
    require_path(path, 'give the ground truth in train.csv format (Kaggle\'s train.csv for out-of-fold files)')
    ann = read_annotations(path)
    if image_ids is not None:
        ann = ann[ann['image_id'].isin(set(image_ids))]
    sizes = sizes_from_frame(ann, path) if {'width', 'height'} <= set(ann.columns) else {}
    findings = group_findings(ann)
    empty = (np.zeros((0, 4)), np.zeros(0, np.int64))
    truth = {}
    for img_id in pd.unique(ann['image_id']):
        if img_id not in findings:
            truth[img_id] = empty
            continue
        boxes, labels, readers = findings[img_id]
        if fusion != 'none':
            # WBF works in normalised coordinates; any frame that contains every box gives the same result.
            w, h = sizes.get(img_id) or (boxes[:, 2].max(), boxes[:, 3].max())
            boxes, labels = fuse_readers(boxes, labels, readers, w, h, fusion, iou_thr)
        truth[img_id] = (boxes, labels)
    return truth
