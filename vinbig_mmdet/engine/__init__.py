from .config_utils import (adapt_to_cpu_distributed, apply_train_shortcuts, check_data_root, enable_tta,
                           set_data_root, set_submission_file, set_two_class_filter, use_val_split_for_test)
from .hooks import TrainValOverlapHook
from .runner import NonFiniteLossHook, SafeCheckpointHook, VinBigRunner
from .visualization import RadiographVisualizationHook

__all__ = ['NonFiniteLossHook', 'RadiographVisualizationHook', 'SafeCheckpointHook', 'TrainValOverlapHook',
           'VinBigRunner',
           'adapt_to_cpu_distributed', 'apply_train_shortcuts', 'check_data_root', 'enable_tta', 'set_data_root',
           'set_submission_file', 'set_two_class_filter', 'use_val_split_for_test']
