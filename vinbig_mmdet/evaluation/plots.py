"""Saved evaluation details: per-class precision-recall curves at the IoU they were scored at (the competition's
0.4 by default) and the class confusion summary."""
import json
import os
import os.path as osp
from typing import Dict, List

import pandas as pd

from ..classes import ALL_CLASSES
from ..io.atomic import atomic_open


def save_evaluation(result: Dict[str, object], confusion: Dict[int, Dict[str, int]], out_dir: str) -> List[str]:
    """pr_curves.png, pr_curves.json (precision/recall per class) and confusion.csv in ``out_dir``, each written
    atomically, for a :func:`kaggle_map` ``result`` (its ``iou_thr`` is named in the figure's title)."""
    iou_thr = result['iou_thr']
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    os.makedirs(out_dir, exist_ok=True)
    classes = [c for c in result['AP'] if result['n_gt'][c]]
    names = tuple(result.get('names') or ALL_CLASSES)  # the class set's, "No finding" last
    curves = {names[c]: dict(ap=result['AP'][c], n_gt=result['n_gt'][c],
                                   precision=[round(float(v), 5) for v in result['pr'][c][0]],
                                   recall=[round(float(v), 5) for v in result['pr'][c][1]]) for c in classes}
    with atomic_open(osp.join(out_dir, 'pr_curves.json'), 'w') as f:
        json.dump(dict(mAP=result['mAP'], iou_thr=iou_thr, classes=curves), f)
    cols = 5
    rows = max(1, (len(classes) + cols - 1) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.8 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis('off')
    for ax, c in zip(axes.flat, classes):
        ax.axis('on')
        precision, recall = result['pr'][c]
        ax.step(recall, precision, where='post', color='tab:blue')
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.05)
        ax.set_title(f'{names[c]}\nAP {result["AP"][c]:.3f} (gt {result["n_gt"][c]})', fontsize=9)
        ax.set_xlabel('recall', fontsize=8)
        ax.set_ylabel('precision', fontsize=8)
    fig.suptitle(f'Precision-recall at IoU > {iou_thr:g}, mAP {result["mAP"]:.4f}')
    fig.tight_layout()
    with atomic_open(osp.join(out_dir, 'pr_curves.png'), 'wb') as f:
        fig.savefig(f, format='png', dpi=90)
    plt.close(fig)
    table = pd.DataFrame([dict(class_id=c, **{'class': names[c]}, **counts)
                          for c, counts in confusion.items()]).fillna(0)
    table = table.astype({c: int for c in table.columns if c != 'class'})
    with atomic_open(osp.join(out_dir, 'confusion.csv'), 'w') as f:
        table.to_csv(f, index=False)
    return [osp.join(out_dir, n) for n in ('pr_curves.png', 'pr_curves.json', 'confusion.csv')]
