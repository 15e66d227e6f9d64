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

#: The 22 local (boxed) labels of VinDr-CXR as released on PhysioNet, in the release's alphabetical order (its
#: image_labels_*.csv columns). Kaggle's 14 are a subset (same names).
VINDR_LOCAL_LABELS: Tuple[str, ...] = (
    'Aortic enlargement', 'Atelectasis', 'Calcification', 'Cardiomegaly', 'Clavicle fracture', 'Consolidation',
    'Edema', 'Emphysema', 'Enlarged PA', 'ILD', 'Infiltration', 'Lung cavity', 'Lung cyst', 'Lung Opacity',
    'Mediastinal shift', 'Nodule/Mass', 'Other lesion', 'Pleural effusion', 'Pleural thickening', 'Pneumothorax',
    'Pulmonary fibrosis', 'Rib fracture')

#: The class sets a dataset config chooses from (``class_set=``): ids are positions; "No finding" is the last id
#: (``len(classes)``: 14 or 22).
CLASS_SETS: Dict[str, Tuple[str, ...]] = {'kaggle14': CLASSES, 'vindr22': VINDR_LOCAL_LABELS}
DEFAULT_CLASS_SET = 'kaggle14'


def class_set(name: str) -> Tuple[str, ...]:
    """The classes of a set named in a config; an unknown name is an InputError listing the known ones."""
    if name not in CLASS_SETS:
        from .errors import InputError
        raise InputError(f'class_set={name!r} is not known; choose one of {sorted(CLASS_SETS)} '
                         f'(vinbig_mmdet/classes.py CLASS_SETS)')
    return CLASS_SETS[name]


def palette_for(classes: Tuple[str, ...]) -> List[Tuple[int, int, int]]:
    """One colour per class: Kaggle's 14 keep theirs, the others get evenly spread hues."""
    import colorsys
    out = []
    for k, name in enumerate(classes):
        if name in CLASSES:
            out.append(PALETTE[CLASSES.index(name)])
        else:
            r, g, b = colorsys.hsv_to_rgb((k * 0.618034) % 1.0, 0.8, 0.9)
            out.append((int(r * 255), int(g * 255), int(b * 255)))
    return out

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
