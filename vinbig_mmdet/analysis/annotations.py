"""Statistics of a train.csv: class counts, boxes per image, box sizes, and how often radiologists agree.

Everything is grouped with array operations, linear in the number of rows (1,000,000 rows in seconds).
"""
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
import pandas as pd

from ..classes import ALL_CLASSES, CLASSES, COMPETITION_IOU_THR, NO_FINDING_ID
from ..datasets.annotations import UNKNOWN_READER
from ..structures.boxes import BOX_COLUMNS, box_iou_pairs


def class_table(ann: pd.DataFrame, iou_thr: float = COMPETITION_IOU_THR) -> pd.DataFrame:
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


def has_readers(ann: pd.DataFrame) -> bool:
    """False when no row names its reader (no rad_id column, or all empty): no reader statistics then."""
    return bool((ann['rad_id'] != UNKNOWN_READER).any())


def _same_group_pairs(group: np.ndarray) -> tuple:
    """Every ordered pair (i, j), i != j, of rows with the same ``group`` code (rows sorted by group)."""
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    sizes = np.diff(np.r_[starts, len(group)])
    row_start, row_size = np.repeat(starts, sizes), np.repeat(sizes, sizes)
    i = np.repeat(np.arange(len(group)), row_size)
    offset = np.arange(len(i)) - np.repeat(np.cumsum(row_size) - row_size, row_size)
    j = np.repeat(row_start, row_size) + offset
    return i[i != j], j[i != j]


def reader_agreement(ann: pd.DataFrame, iou_thr: float = COMPETITION_IOU_THR) -> Dict[int, float]:
    """Per class: the share of one reader's boxes that another reader of the same image matches (same class,
    IoU > ``iou_thr``). Rows without a reader (``R?``) are left out; empty if no row has one."""
    findings = ann[(ann['class_id'] != NO_FINDING_ID) & (ann['rad_id'] != UNKNOWN_READER)]
    if findings.empty:
        return {}
    group = findings.groupby(['image_id', 'class_id'], sort=False).ngroup().to_numpy()
    order = np.argsort(group, kind='stable')
    group = group[order]
    boxes = findings[BOX_COLUMNS].to_numpy(np.float64)[order]
    readers = pd.factorize(findings['rad_id'].astype(str))[0][order]
    labels = findings['class_id'].to_numpy(np.int64)[order]
    i, j = _same_group_pairs(group)
    other = readers[i] != readers[j]
    i, j = i[other], j[other]
    hit = np.zeros(len(group), dtype=bool)
    hit[i[box_iou_pairs(boxes[i], boxes[j]) > iou_thr]] = True
    rows = np.bincount(labels, minlength=len(CLASSES))
    matched = np.bincount(labels, weights=hit, minlength=len(CLASSES))
    return {c: float(matched[c] / rows[c]) for c in range(len(CLASSES)) if rows[c]}


def save_plots(ann: pd.DataFrame, out_dir: str, iou_thr: float = COMPETITION_IOU_THR,
               table: Optional[pd.DataFrame] = None) -> List[str]:
    """class_counts.png, boxes_per_image.png, box_sizes.png, reader_agreement.png in ``out_dir`` (``table``:
    the :func:`class_table` of ``ann``, if already computed)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    table = class_table(ann, iou_thr) if table is None else table
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
    ax.set_title('Radiologist agreement' if has_readers(ann) else
                 'Radiologist agreement: not computed, the file names no readers (rad_id)')
    ax.invert_yaxis()
    save(fig, 'reader_agreement.png')
    return paths
