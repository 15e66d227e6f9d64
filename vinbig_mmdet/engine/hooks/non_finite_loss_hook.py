"""Stop on a NaN or infinite loss before a checkpoint of the broken weights is written."""
import torch
from mmdet.registry import HOOKS
from mmengine.dist import get_world_size
from mmengine.hooks import Hook


@HOOKS.register_module()
class NonFiniteLossHook(Hook):
    """Stop training on a NaN or infinite loss, naming the iteration and the batch's images, before any
    checkpoint of the broken weights can be written."""
    priority = 'ABOVE_NORMAL'

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        loss = (outputs or {}).get('loss')
        if loss is None or bool(torch.isfinite(loss).all()):
            return
        samples = (data_batch or {}).get('data_samples', [])
        ids = [getattr(s, 'img_id', None) or s.metainfo.get('img_path') for s in samples]
        raise FloatingPointError(
            f'non-finite loss ({float(loss.detach())}) at iteration {runner.iter + 1} (epoch {runner.epoch + 1}, '
            f'batch {batch_idx}); images in the batch: {ids}. The last checkpoint '
            f'{runner.message_hub.get_info("last_ckpt", "(none yet)")} is intact; lower the learning rate or '
            f'check these images, then resume.{unscaled_lr_hint(runner)}')


def unscaled_lr_hint(runner) -> str:
    """A pointer to --auto-scale-lr when the config's learning rate was set for another total batch size and
    this run did not scale it (the usual cause of a NaN on fewer GPUs than the config assumes)."""
    cfg = getattr(runner, 'cfg', None)
    scaling = (cfg or {}).get('auto_scale_lr') or {}
    base = scaling.get('base_batch_size')
    if base is None or scaling.get('enable', False):
        return ''
    total = cfg.train_dataloader.batch_size * get_world_size()
    if total == base:
        return ''
    return (f' The config\'s learning rate is for a total batch of {base} images and this run has {total}: '
            f'add --auto-scale-lr to tools/train.py to scale it (unless --lr already chose one for this batch).')
