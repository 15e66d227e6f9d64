from .train_val_overlap import TrainValOverlapHook, dataset_image_ids, with_overlap_check

__all__ = ['TrainValOverlapHook', 'dataset_image_ids', 'with_overlap_check']
