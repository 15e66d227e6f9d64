from .config_utils import (
    apply_train_shortcuts,
    check_data_root,
    set_data_root,
    set_submission_file,
    set_two_class_filter,
    use_val_split_for_test,
)
from .distributed import adapt_to_cpu_distributed
from .hooks import NonFiniteLossHook, RadiographVisualizationHook, SafeCheckpointHook, TrainValOverlapHook
from .runner import VinBigRunner

__all__ = ['NonFiniteLossHook', 'RadiographVisualizationHook', 'SafeCheckpointHook', 'TrainValOverlapHook',
           'VinBigRunner',
           'adapt_to_cpu_distributed', 'apply_train_shortcuts', 'check_data_root', 'set_data_root',
           'set_submission_file', 'set_two_class_filter', 'use_val_split_for_test']
