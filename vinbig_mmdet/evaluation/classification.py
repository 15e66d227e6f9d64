"""The normal/abnormal classifier's evaluation: ROC AUC (numpy), accuracy, and the ``image_id,prob`` file that
``tools/test.py --abnormal-probs`` and ``tools/ensemble.py --abnormal-probs`` read."""
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from ..io.atomic import write_csv_atomic


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """Area under the ROC curve: the probability that a random positive scores above a random negative (ties
    count half), from the ranks (Mann-Whitney U). NaN when only one class is present."""
    labels = np.asarray(labels, bool)
    scores = np.asarray(scores, np.float64)
    n_pos = int(labels.sum())
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float('nan')
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    mean_rank = np.cumsum(counts) - (counts - 1) / 2  # 1-based average rank of each distinct score
    rank_sum = mean_rank[inverse.ravel()][labels].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def write_probabilities(path: str, rows: Iterable[Tuple[str, float]]) -> int:
    """Write ``image_id,prob`` atomically. Returns the row count."""
    return write_csv_atomic(path, ['image_id', 'prob'], ((i, f'{float(p):.6f}') for i, p in rows))


@METRICS.register_module()
class AbnormalityMetric(BaseMetric):
    """ROC AUC and accuracy (at p = 0.5) of the normal/abnormal classifier on labelled images (prefix
    ``abnormal``), and with ``prob_file`` the ``image_id,prob`` CSV of every image evaluated (labelled or not)."""
    default_prefix: Optional[str] = 'abnormal'

    def __init__(self, prob_file: Optional[str] = None, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.prob_file = prob_file

    def process(self, data_batch: dict, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            label = sample.get('gt_label')
            self.results.append((sample['img_id'], float(sample['pred_score']),
                                 None if label is None else int(label)))

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        logger = MMLogger.get_current_instance()
        if self.prob_file:
            n = write_probabilities(self.prob_file, ((img_id, p) for img_id, p, _ in results))
            logger.info(f'AbnormalityMetric: wrote {n} probabilities to {self.prob_file}')
        labelled = [r for r in results if r[2] is not None]
        if not labelled:
            return {}
        probs = np.array([r[1] for r in labelled])
        labels = np.array([r[2] for r in labelled])
        auc = roc_auc(labels, probs)
        accuracy = float(np.mean((probs >= 0.5) == labels.astype(bool)))
        n_pos = int(labels.sum())
        if np.isnan(auc):
            logger.warning(f'AbnormalityMetric: AUC undefined, all {len(labels)} images are of one class')
        logger.info(f'Abnormality classifier on {len(labels)} images ({n_pos} abnormal, {len(labels) - n_pos} '
                    f'normal): AUC {auc:.4f}, accuracy at 0.5 {accuracy:.4f}')
        return {'AUC': auc, 'accuracy': accuracy}
