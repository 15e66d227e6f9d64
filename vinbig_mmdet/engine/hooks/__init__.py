from .non_finite_loss_hook import NonFiniteLossHook
from .safe_checkpoint_hook import SafeCheckpointHook
from .train_val_overlap_hook import TrainValOverlapHook, dataset_image_ids, with_overlap_check
from .visualization_hook import RadiographVisualizationHook

__all__ = ['NonFiniteLossHook', 'RadiographVisualizationHook', 'SafeCheckpointHook', 'TrainValOverlapHook',
           'dataset_image_ids', 'with_overlap_check']
