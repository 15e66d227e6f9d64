"""One self-contained HTML page about a run: config, curves, per-class AP, PR curves, confusion, and validation
images with ground truth and predictions (best and worst first). Every image is embedded; nothing is fetched."""
import base64
import html
import os.path as osp
import tempfile
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np

from ..apis.inference import detection_dicts
from ..classes import COMPETITION_IOU_THR, DRAW_SCORE_THR, NO_FINDING_ID
from ..evaluation.kaggle_map import add_no_finding_gt, confusion_summary, kaggle_map
from ..io import read_image
from ..structures.boxes import box_iou, empty_ground_truth, greedy_match
from ..visualization import draw_detections

CSS = """body{font-family:sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ccc;padding:4px;font-size:12px;width:380px}.card img{width:100%}
img.wide{max-width:100%}.note{color:#666;font-size:12px}"""


def model_classes(model) -> str:
    """What the model predicts, read wherever its kind keeps it: a two-stage detector's RoI head (Cascade R-CNN: a
    list of heads, one per stage), a one-stage detector's bbox_head (TOOD), or an image classifier (no box head)."""
    heads = []
    if model.get('roi_head'):
        box_head = model.roi_head.get('bbox_head')
        heads = box_head if isinstance(box_head, (list, tuple)) else [box_head]
    elif model.get('bbox_head'):
        heads = [model.bbox_head]
    counts = sorted({h.get('num_classes') for h in heads if h is not None and h.get('num_classes') is not None})
    if counts:
        return ', '.join(map(str, counts)) + (f' (each of {len(heads)} stages)' if len(heads) > 1 else '')
    return 'image-level: finding / "No finding"' if model.get('type') == 'AbnormalityClassifier' else 'unknown'


def config_summary(cfg) -> List[List[str]]:
    """The report's config table (label, value) for any shipped config: detectors of every kind and the classifier.
    Every key is optional, so a config without one shows "-" rather than stopping the report."""
    model, train_ds = cfg.model, cfg.train_dataloader.dataset
    resize = next((t for t in train_ds.get('pipeline', []) if t.get('type') == 'Resize'), {})
    opt = cfg.optim_wrapper.optimizer
    steps = [s for s in cfg.get('param_scheduler', None) or [] if s.get('type') == 'MultiStepLR']
    backbone = model.get('backbone') or {}
    parts = [model.get('type'), f'{backbone.get("type", "-")}-{backbone.get("depth", "")}'.rstrip('-')]
    neck = model.get('neck')
    arch = ', '.join(p for p in parts if p) + (f' + {neck.get("type")}' if neck else '')
    return [['model', arch],
            ['classes', model_classes(model)],
            ['input size', str(resize.get('scale', '-'))],
            ['optimizer', f'{opt.type} lr {opt.lr}, momentum {opt.get("momentum")}, '
                          f'weight decay {opt.get("weight_decay")}'],
            ['schedule', f'{cfg.train_cfg.max_epochs} epochs' + (
                f', x{steps[0].gamma} at epochs {steps[0].milestones}' if steps else '')],
            ['batch per GPU', str(cfg.train_dataloader.batch_size)],
            ['data', f'{train_ds.get("data_root", cfg.get("data_root"))} (fold {train_ds.get("fold")} held out)'],
            ['radiologist fusion', str(train_ds.get('fusion', cfg.get('fusion')))],
            ['"No finding" images in training',
             'left out' if (train_ds.get('filter_cfg') or {}).get('filter_empty_gt') else 'kept']]


def png_data_uri(img: np.ndarray) -> str:
    ok, buf = cv2.imencode('.png', img)
    if not ok:
        raise ValueError('PNG encoding failed')
    return 'data:image/png;base64,' + base64.b64encode(buf.tobytes()).decode()


def file_data_uri(path: str) -> str:
    with open(path, 'rb') as f:
        return 'data:image/png;base64,' + base64.b64encode(f.read()).decode()


def image_quality(gt: Tuple[np.ndarray, np.ndarray], det, score_thr: float = DRAW_SCORE_THR,
                  iou_thr: float = COMPETITION_IOU_THR) -> float:
    """F1 of one image at IoU > 0.4 among detections scored >= ``score_thr`` ("No finding" included), matched
    as the metric matches them (highest score first, same class)."""
    gt_boxes, gt_labels = gt
    boxes, scores, labels = (np.asarray(a) for a in det)
    keep = np.flatnonzero(scores >= score_thr)
    keep = keep[np.argsort(-scores[keep], kind='stable')]
    boxes, labels = boxes.reshape(-1, 4)[keep], labels[keep]
    iou = box_iou(boxes, gt_boxes) * (labels[:, None] == gt_labels[None, :])
    tp = int((greedy_match(iou, iou_thr) >= 0).sum())
    return 2 * tp / max(2 * tp + (len(boxes) - tp) + (len(gt_boxes) - tp), 1)


def draw_case(path: str, gt, det, score_thr: float = DRAW_SCORE_THR, max_side: int = 512) -> np.ndarray:
    """Ground truth thin and white, predictions >= score_thr in their class colour (the drawing of infer.py)."""
    truth = [d for d in detection_dicts(gt[0], np.ones(len(gt[1])), gt[1], 0.0) if d['class_id'] != NO_FINDING_ID]
    return draw_detections(read_image(path), detection_dicts(*det, score_thr), max_side, truth)


def pick_example(ground_truth: Dict, predictions: Dict, score_thr: float = DRAW_SCORE_THR) -> str:
    """The image that shows a model best: among the predicted images with findings, the highest F1
    (:func:`image_quality`), then the most ground-truth boxes, then the image id (a fixed choice)."""
    with_findings = [k for k, (boxes, _) in ground_truth.items() if len(boxes) and k in predictions]
    if not with_findings:
        raise ValueError('no predicted image has a finding in the ground truth')
    return min(with_findings, key=lambda k: (-image_quality(ground_truth[k], predictions[k], score_thr),
                                             -len(ground_truth[k][0]), k))


def _table(rows: List[List[str]], header: List[str]) -> str:
    head = ''.join(f'<th>{html.escape(h)}</th>' for h in header)
    body = ''.join('<tr>' + ''.join(f'<td>{html.escape(str(c))}</td>' for c in row) + '</tr>' for row in rows)
    return f'<table><tr>{head}</tr>{body}</table>'


def build_report(title: str, config_rows: List[List[str]], curves_png: Optional[str],
                 val_record: Optional[Dict], predictions: Optional[Dict] = None,
                 ground_truth: Optional[Dict] = None, image_paths: Optional[Dict[str, str]] = None,
                 n_cases: int = 6, score_thr: float = DRAW_SCORE_THR) -> str:
    """The HTML page. ``ground_truth``/``predictions`` are in original pixels, keyed by image id."""
    parts = [f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
             f'<style>{CSS}</style></head><body><h1>{html.escape(title)}</h1>',
             '<h2>Configuration</h2>', _table(config_rows, ['setting', 'value'])]
    parts.append('<h2>Training curves</h2>')
    parts.append(f'<img class="wide" alt="training curves" src="{file_data_uri(curves_png)}">' if curves_png
                 else '<p class="note">no training logs found</p>')
    if val_record:
        rows = [[k[len('vinbig/AP_'):].replace('_', ' '), f'{v:.4f}'] for k, v in val_record.items()
                if k.startswith('vinbig/AP_')]
        parts += [f'<h2>Validation AP@0.4 per class (epoch {val_record.get("step")}, '
                  f'mAP {val_record["vinbig/mAP"]:.4f})</h2>', _table(rows, ['class', 'AP@0.4'])]
    scored = {}
    if predictions is not None and ground_truth:
        common = {k: v for k, v in predictions.items() if k in ground_truth}
        truth = {k: ground_truth[k] for k in common}
        result = kaggle_map(common, truth)
        with tempfile.TemporaryDirectory() as tmp:
            from ..evaluation.plots import save_evaluation
            save_evaluation(result, confusion_summary(common, truth, score_thr=score_thr), tmp)
            pr_uri = file_data_uri(osp.join(tmp, 'pr_curves.png'))
            confusion = open(osp.join(tmp, 'confusion.csv')).read().strip().splitlines()
        parts += [f'<h2>Precision-recall at IoU {result["iou_thr"]:g} ({len(common)} images, '
                  f'mAP {result["mAP"]:.4f})</h2>',
                  f'<img class="wide" alt="precision-recall curves" src="{pr_uri}">',
                  f'<h2>What happened to each ground-truth box (predictions scored >= {score_thr})</h2>',
                  _table([line.split(',') for line in confusion[1:]], confusion[0].split(','))]
        gt_full = add_no_finding_gt(truth)
        scored = {k: image_quality(gt_full[k], common[k], score_thr) for k in common}
    if predictions is not None and image_paths:
        if scored:
            findings = {k: int((gt_full[k][1] != NO_FINDING_ID).sum()) for k in scored}
            order = sorted(scored, key=lambda k: (-scored[k], -findings[k], k))  # ties: images with findings
            best, worst = order[:n_cases], [k for k in reversed(order) if k not in order[:n_cases]][:n_cases]
            groups = [('Best validation cases', best), ('Worst validation cases', worst)]
        else:
            order = sorted(predictions, key=lambda k: -float(np.max(predictions[k][1], initial=0)))
            groups = [('Most confident predictions', order[:2 * n_cases])]
        empty = empty_ground_truth()
        for heading, ids in groups:
            parts.append(f'<h2>{heading}</h2><p class="note">white: ground truth; colour: predictions scored '
                         f'>= {score_thr}</p><div class="grid">')
            for k in ids:
                if k not in image_paths:
                    continue
                img = draw_case(image_paths[k], (ground_truth or {}).get(k, empty), predictions[k], score_thr)
                caption = f'{html.escape(k)}' + (f' - F1@0.4 {scored[k]:.2f}' if k in scored else '')
                parts.append(f'<div class="card"><img alt="{html.escape(k)}" src="{png_data_uri(img)}">'
                             f'<div>{caption}</div></div>')
            parts.append('</div>')
    parts.append('</body></html>')
    return '\n'.join(parts)
