"""The VinBigData classes: one source of truth for names, ids and colours."""
from typing import Dict, List, Tuple

#: The 14 abnormality classes, indexed by Kaggle's ``class_id`` (0..13).
CLASSES: Tuple[str, ...] = (
    'Aortic enlargement', 'Atelectasis', 'Calcification', 'Cardiomegaly',
    'Consolidation', 'ILD', 'Infiltration', 'Lung Opacity', 'Nodule/Mass',
    'Other lesion', 'Pleural effusion', 'Pleural thickening', 'Pneumothorax',
    'Pulmonary fibrosis')

#: Kaggle's class_id for an image without findings; scored as a 0 0 1 1 box.
NO_FINDING_ID: int = 14
NO_FINDING_NAME: str = 'No finding'

#: Everything the metric scores: the 14 abnormalities plus "No finding".
ALL_CLASSES: Tuple[str, ...] = CLASSES + (NO_FINDING_NAME, )

#: One distinct RGB colour per abnormality class (for drawing).
PALETTE: List[Tuple[int, int, int]] = [
    (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
    (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230),
    (210, 245, 60), (250, 190, 212), (0, 128, 128), (220, 190, 255),
    (170, 110, 40), (128, 0, 0)]

METAINFO: Dict[str, object] = dict(classes=CLASSES, palette=PALETTE)

# The numbers that define the task. Configs are pure (no imports) and repeat them as literals;
# tests/configs/test_configs.py checks that they agree.

#: The competition's overlap: a detection counts when its IoU with a ground-truth box is strictly above this. The
#: readers' boxes are fused (and submissions ensembled) at the same overlap.
COMPETITION_IOU_THR: float = 0.4

#: The image-level 2-class filter: P(abnormal) below FILTER_LOW -> "No finding" only; above FILTER_HIGH ->
#: the detections only; in between -> both (the public solutions' thresholds).
FILTER_LOW: float = 0.08
FILTER_HIGH: float = 0.95

#: Boxes scored at least this are drawn (infer.py, --show-dir, the report) and counted in the confusion summary.
DRAW_SCORE_THR: float = 0.3
