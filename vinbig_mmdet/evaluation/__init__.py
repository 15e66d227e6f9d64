from .classification import AbnormalityMetric, roc_auc, write_probabilities
from .kaggle_map import kaggle_map, no_finding_baseline, voc_ap
from .metric import VinBigMetric, format_ap_table
from .submission import (
    format_prediction_string,
    parse_prediction_string,
    read_submission,
    select_detections,
    to_original_pixels,
    write_submission,
)

__all__ = ['AbnormalityMetric', 'VinBigMetric', 'format_ap_table', 'format_prediction_string',
           'kaggle_map', 'no_finding_baseline', 'parse_prediction_string', 'read_submission', 'roc_auc',
           'select_detections', 'to_original_pixels', 'voc_ap', 'write_probabilities', 'write_submission']
