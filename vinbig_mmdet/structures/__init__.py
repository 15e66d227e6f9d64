"""Data structures shared by every layer (boxes); imports nothing from the rest of the package."""
from .boxes import BOX_COLUMNS, box_iou, box_iou_pairs, empty_detections, empty_ground_truth, greedy_match

__all__ = ['BOX_COLUMNS', 'box_iou', 'box_iou_pairs', 'empty_detections', 'empty_ground_truth', 'greedy_match']
