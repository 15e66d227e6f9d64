from .train_val_overlap import TrainValOverlapHook, dataset_image_ids, with_overlap_check
from .visualization_hook import RadiographVisualizationHook

__all__ = ['RadiographVisualizationHook', 'TrainValOverlapHook', 'dataset_image_ids', 'with_overlap_check']
