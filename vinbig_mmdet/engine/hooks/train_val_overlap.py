"""Refuse to train when the validation images are also training images: the "best" checkpoint would be chosen,
and the printed mAP measured, on images the model was trained on."""
from typing import List, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.runner import BaseLoop
from mmdet.registry import HOOKS

from ...errors import InputError


def dataset_image_ids(dataset) -> List[str]:
    """``img_id`` (else ``img_path``) of every sample, through ConcatDataset / RepeatDataset-style wrappers."""
    if hasattr(dataset, 'datasets'):
        return [i for d in dataset.datasets for i in dataset_image_ids(d)]
    if hasattr(dataset, 'dataset'):
        return dataset_image_ids(dataset.dataset)
    infos = (dataset.get_data_info(i) for i in range(len(dataset)))
    return [str(info.get('img_id', info.get('img_path'))) for info in infos]


def check_disjoint(train_dataset, val_dataset) -> None:
    """Raise an InputError naming both loaders and the overlap count if the image sets share any image."""
    val_ids = set(dataset_image_ids(val_dataset))
    shared = sorted(val_ids.intersection(dataset_image_ids(train_dataset)))
    if shared:
        raise InputError(
            f'train_dataloader and val_dataloader share {len(shared)} of the {len(val_ids)} validation images '
            f'(e.g. {shared[:3]}): the validation mAP and the "best" checkpoint would be measured on training '
            f'images. Choose the fold once for both loaders: --fold K (or --cfg-options fold=K); a config that '
            f'sets train_dataloader.dataset.fold must set val_dataloader.dataset.fold to the same value.')


@HOOKS.register_module()
class TrainValOverlapHook(Hook):
    """Before training starts (both loaders built, no weights loaded yet), check that no validation image is a
    training image. VinBigRunner adds this hook to every training run, whatever the config's custom_hooks say."""
    priority = 'VERY_HIGH'

    def before_run(self, runner) -> None:
        train_loop, val_loop = getattr(runner, '_train_loop', None), getattr(runner, '_val_loop', None)
        if isinstance(train_loop, BaseLoop) and isinstance(val_loop, BaseLoop):  # a training run with validation
            check_disjoint(train_loop.dataloader.dataset, val_loop.dataloader.dataset)


def with_overlap_check(custom_hooks: Optional[Sequence]) -> list:
    """``custom_hooks`` plus TrainValOverlapHook unless it is there already (as a config dict or an instance)."""
    hooks = list(custom_hooks or [])
    kinds = [h.get('type') if isinstance(h, dict) else type(h) for h in hooks]
    if 'TrainValOverlapHook' not in kinds and TrainValOverlapHook not in kinds:
        hooks.append(dict(type='TrainValOverlapHook'))
    return hooks
