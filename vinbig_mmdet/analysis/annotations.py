"""Statistics of a train.csv: class counts, boxes per image, box sizes, and how often radiologists agree."""
import os.path as osp
from typing import Dict, List

import numpy as np
import pandas as pd

from ..classes import ALL_CLASSES, CLASSES, NO_FINDING_ID
from ..evaluation.kaggle_map import box_iou

BOX = ['x_min', 'y_min', 'x_max', 'y_max']


def class_table(ann: pd.DataFrame, iou_thr: float = 0.4) -> pd.DataFrame:
    """One row per class: rows, images, median box width/height, reader agreement."""
    findings = ann[ann['class_id'] != NO_FINDING_ID]
    w, h = findings['x_max'] - findings['x_min'], findings['y_max'] - findings['y_min']
    agreement = reader_agreement(ann, iou_thr)
    table = pd.DataFrame({
        'class': list(ALL_CLASSES),
        'rows': ann['class_id'].value_counts().reindex(range(NO_FINDING_ID + 1), fill_value=0).to_numpy(),
        'images': ann.groupby('class_id')['image_id'].nunique().reindex(range(NO_FINDING_ID + 1),
                                                                         fill_value=0).to_numpy(),
    })
    table['median_w'] = w.groupby(findings['class_id']).median().reindex(range(NO_FINDING_ID + 1))
    table['median_h'] = h.groupby(findings['class_id']).median().reindex(range(NO_FINDING_ID + 1))
    table[f'agreement@{iou_thr}'] = pd.Series(agreement).reindex(range(NO_FINDING_ID + 1))
    return table


def boxes_per_image(ann: pd.DataFrame) -> pd.Series:
    """Number of finding boxes (all readers) of every image; 0 for "No finding" images."""
    counts = ann[ann['class_id'] != NO_FINDING_ID].groupby('image_id').size()
    return counts.reindex(ann['image_id'].unique(), fill_value=0)


def reader_agreement(ann: pd.DataFrame, iou_thr: float = 0.4) -> Dict[int, float]:
    """Per class: the share of one reader's boxes that another reader of the same image matches (same class,
    IoU > ``iou_thr``)."""
    findings = ann[ann['class_id'] != NO_FINDING_ID]
    matched: Dict[int, List[bool]] = {c: [] for c in range(len(CLASSES))}
    for _, rows in findings.groupby(['image_id', 'class_id']):
        boxes, readers = rows[BOX].to_numpy(np.float64), rows['rad_id'].astype(str).to_numpy()
        iou = box_iou(boxes, boxes)
        other = readers[:, None] != readers[None, :]
        hit = ((iou > iou_thr) & other).any(axis=1)
        matched[int(rows['class_id'].iloc[0])].extend(hit.tolist())
    return {c: float(np.mean(v)) for c, v in matched.items() if v}


def save_plots(ann: pd.DataFrame, out_dir: str, iou_thr: float = 0.4) -> List[str]:
    """class_counts.png, boxes_per_image.png, box_sizes.png, reader_agreement.png in ``out_dir``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    table = class_table(ann, iou_thr)
    paths = []

    def save(fig, name):
        fig.tight_layout()
        path = osp.join(out_dir, name)
        fig.savefig(path, dpi=110)
        plt.close(fig)
        paths.append(path)

    fig, ax = plt.subplots(figsize=(9, 5))
    ax.barh(table['class'], table['images'], color='tab:blue')
    ax.set_xlabel('images')
    ax.set_title('Images per class')
    ax.invert_yaxis()
    save(fig, 'class_counts.png')

    fig, ax = plt.subplots(figsize=(7, 4))
    counts = boxes_per_image(ann)
    ax.hist(counts[counts > 0], bins=np.arange(1, max(int(counts.max()), 1) + 2) - 0.5, color='tab:orange')
    ax.set_xlabel('finding boxes per abnormal image (all readers)')
    ax.set_ylabel('images')
    ax.set_title(f'{int((counts == 0).sum())} "No finding" images not shown')
    save(fig, 'boxes_per_image.png')

    fig, ax = plt.subplots(figsize=(9, 5))
    findings = ann[ann['class_id'] != NO_FINDING_ID]
    areas = [np.sqrt((g['x_max'] - g['x_min']) * (g['y_max'] - g['y_min'])).to_numpy()
             for _, g in findings.groupby('class_id')]
    labels = [CLASSES[int(c)] for c in sorted(findings['class_id'].unique())]
    if areas:
        ax.boxplot(areas, vert=False)
        ax.set_yticks(range(1, len(labels) + 1), labels)
    ax.set_xlabel('box size, sqrt(w x h) in original pixels')
    ax.set_title('Box size per class')
    save(fig, 'box_sizes.png')

    fig, ax = plt.subplots(figsize=(9, 5))
    rows = table.iloc[:NO_FINDING_ID]
    ax.barh(rows['class'], rows[f'agreement@{iou_thr}'].fillna(0), color='tab:green')
    ax.set_xlim(0, 1)
    ax.set_xlabel(f'share of a reader\'s boxes matched by another reader (IoU > {iou_thr})')
    ax.set_title('Radiologist agreement')
    ax.invert_yaxis()
    save(fig, 'reader_agreement.png')
    return paths
