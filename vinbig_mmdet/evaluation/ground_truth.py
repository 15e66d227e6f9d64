"""Ground truth for offline scoring, from any CSV in train.csv format (original pixel coordinates)."""
from typing import Dict, Tuple

import numpy as np

from ..classes import NO_FINDING_ID
from ..datasets.annotations import BOX_COLUMNS, read_annotations
from ..datasets.fusion import fuse_readers


def ground_truth_from_csv(path: str, fusion: str = 'wbf', iou_thr: float = 0.4
                          ) -> Dict[str, Tuple[np.ndarray, np.ndarray]]:
    """image_id -> (boxes, labels); readers' boxes fused with ``fusion`` ('wbf', 'nms' or 'none').

    Images whose rows are all "No finding" get no boxes (the metric turns them into class 14).
    """
    ann = read_annotations(path)
    truth = {}
    for img_id, rows in ann.groupby('image_id', sort=False):
        rows = rows[rows['class_id'] != NO_FINDING_ID]
        boxes = rows[BOX_COLUMNS].to_numpy(np.float64)
        labels = rows['class_id'].to_numpy(np.int64)
        if len(boxes) and fusion != 'none':
            # WBF works in normalised coordinates; any frame that contains every box gives the same result.
            w = float(rows['width'].iloc[0]) if 'width' in rows else boxes[:, 2].max()
            h = float(rows['height'].iloc[0]) if 'height' in rows else boxes[:, 3].max()
            boxes, labels = fuse_readers(boxes, labels, rows['rad_id'].astype(str).to_numpy(), w, h, fusion,
                                         iou_thr)
        truth[img_id] = (boxes, labels)
    return truth
