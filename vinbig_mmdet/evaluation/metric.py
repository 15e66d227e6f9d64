"""VinBigMetric: the competition metric inside MMEngine's evaluator, and the submission writer of tools/test.py."""
from typing import Dict, List, Optional, Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ..classes import ALL_CLASSES, COMPETITION_IOU_THR, FILTER_HIGH, FILTER_LOW, NO_FINDING_NAME
from .kaggle_map import check_iou_thr, confusion_summary, kaggle_map
from .plots import save_evaluation
from .submission import (
    average_abnormal_probabilities,
    filter_submission,
    format_prediction_string,
    select_detections,
    to_original_pixels,
    write_submission,
)


def _numpy(x) -> np.ndarray:
    return x.cpu().numpy() if hasattr(x, 'cpu') else np.asarray(x)


def metric_key(class_name: str) -> str:
    """'Nodule/Mass' -> 'Nodule_Mass': metric names must not contain '/' (the logger's prefix separator)."""
    return class_name.replace('/', '_').replace(' ', '_')


def format_ap_table(result: Dict[str, object]) -> str:
    """Per-class AP table (the classes with ground truth), as printed by the metric and the tools."""
    names = tuple(result.get('names') or ALL_CLASSES)
    at = f'AP@{result.get("iou_thr", COMPETITION_IOU_THR):g}'
    lines = [f'{"id":>3}  {"class":<20} {"gt":>6}  {at:>7}']
    for cid, ap in result['AP'].items():
        n_gt = result['n_gt'][cid]
        lines.append(f'{cid:>3}  {names[cid]:<20} {n_gt:>6}  ' + (f'{ap:7.4f}' if n_gt else f'{"-":>7}'))
    lines.append(f'     {"m" + at:<20} {"":>6}  {result["mAP"]:7.4f}')
    return '\n'.join(lines)


@METRICS.register_module()
class VinBigMetric(BaseMetric):
    """VinBigData mAP@0.4 (VOC 2010 all-point, "No finding" as class 14) in original DICOM pixels.

    Args:
        iou_thr: IoU a detection must exceed.
        score_thr, max_per_img, no_finding: how detections become submission rows
            (see :func:`vinbig_mmdet.evaluation.submission.select_detections`).
        submission_file: if set, also write a Kaggle submission of every image evaluated (labelled or not).
        plot_dir: if set, save per-class precision-recall curves (PNG + JSON) and the class confusion summary
            (CSV) of labelled data there.
        extra_iou_thrs: also report the mAP at these overlaps (``mAP_50`` for 0.5: the number commonly reported
            on VinDr-CXR's labelled test set); ``iou_thr`` stays the one ``mAP`` (and checkpoint choice) uses.
        two_class_filter: ``dict(probs='abnormal.csv', low=FILTER_LOW, high=FILTER_HIGH)``: apply the image-level filter
            (``probs``: one CSV, or a list of CSVs of the same images, averaged; see
            :func:`vinbig_mmdet.evaluation.submission.two_class_filter`) before scoring and writing.

    Metrics (prefix ``vinbig``): ``mAP`` and ``AP_<class>`` for every class with ground truth. Unlabelled data
    (no ``LoadAnnotations`` in the pipeline) only writes the submission.
    """
    default_prefix: Optional[str] = 'vinbig'

    def __init__(self, iou_thr: float = COMPETITION_IOU_THR, score_thr: float = 0.0, max_per_img: int = 100,
                 no_finding: str = '1-max', submission_file: Optional[str] = None,
                 two_class_filter: Optional[dict] = None, plot_dir: Optional[str] = None,
                 extra_iou_thrs: Sequence[float] = (), collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.iou_thr, self.score_thr, self.max_per_img = check_iou_thr(iou_thr, 'iou_thr'), score_thr, max_per_img
        self.no_finding, self.submission_file = no_finding, submission_file
        self.two_class_filter = two_class_filter
        self.plot_dir = plot_dir
        self.extra_iou_thrs = [check_iou_thr(t, 'extra_iou_thrs') for t in extra_iou_thrs]

    @property
    def class_names(self) -> tuple:
        """The dataset's classes plus "No finding" (its id: the last), Kaggle's 15 without a dataset."""
        classes = (self.dataset_meta or {}).get('classes')
        if not classes or len(classes) == len(ALL_CLASSES) - 1:  # Kaggle's 14 (whatever a test names them)
            return ALL_CLASSES
        return tuple(classes) + (NO_FINDING_NAME, )

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            loaded_hw = sample['ori_shape']
            original_wh = sample.get('original_size') or loaded_hw[::-1]
            pred = sample['pred_instances']
            boxes = to_original_pixels(_numpy(pred['bboxes']), loaded_hw, original_wh)
            det = select_detections(boxes, _numpy(pred['scores']), _numpy(pred['labels']), self.score_thr,
                                    self.max_per_img, self.no_finding, len(self.class_names) - 1)
            gt = None
            gt_instances = sample.get('gt_instances', {})
            if 'bboxes' in gt_instances:
                gt = (to_original_pixels(_numpy(gt_instances['bboxes']), loaded_hw, original_wh),
                      _numpy(gt_instances['labels']))
            self.results.append((sample['img_id'], det, gt))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        if self.two_class_filter:
            cfg = dict(self.two_class_filter)
            probs = average_abnormal_probabilities(cfg['probs'])  # one file, or several averaged
            where = cfg['probs'] if isinstance(cfg['probs'], str) else ' + '.join(cfg['probs'])
            filtered = filter_submission({r[0]: r[1] for r in results}, probs, cfg.get('low', FILTER_LOW),
                                         cfg.get('high', FILTER_HIGH), where)
            results = [(img_id, filtered[img_id], gt) for img_id, _, gt in results]
            logger.info(f'VinBigMetric: two-class filter from {where} applied')
        if self.submission_file:
            n = write_submission(self.submission_file,
                                 ((img_id, format_prediction_string(*det, no_finding_id=len(self.class_names) - 1))
                                  for img_id, det, _ in results))
            logger.info(f'VinBigMetric: wrote {n} rows to {self.submission_file}')
        labelled = [r for r in results if r[2] is not None]
        if not labelled:
            return {}
        preds = {img_id: det for img_id, det, _ in labelled}
        truth = {img_id: gt for img_id, _, gt in labelled}
        names = self.class_names
        result = dict(kaggle_map(preds, truth, self.iou_thr, len(names)), names=names)
        logger.info(f'VinBigData mAP@{self.iou_thr} on {len(labelled)} images:\n' + format_ap_table(result))
        if self.plot_dir:
            saved = save_evaluation(result, confusion_summary(preds, truth, self.iou_thr, names=names), self.plot_dir)
            logger.info(f'VinBigMetric: PR curves and confusion summary saved: {", ".join(saved)}')
        metrics = {'mAP': result['mAP']}
        metrics.update({f'AP_{metric_key(names[c])}': ap
                        for c, ap in result['AP'].items() if result['n_gt'][c]})
        for thr in self.extra_iou_thrs:
            extra = dict(kaggle_map(preds, truth, thr, len(names)), names=names)
            logger.info(f'VinBigData mAP@{thr:g} on {len(labelled)} images:\n' + format_ap_table(extra))
            metrics[f'mAP_{round(thr * 100):d}'] = extra['mAP']
        return metrics
