"""Stop on a NaN or infinite loss before a checkpoint of the broken weights is written."""
import torch
from mmdet.registry import HOOKS
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
            f'non-finite loss ({float(loss)}) at iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch '
            f'{batch_idx}); images in the batch: {ids}. The last checkpoint '
            f'{runner.message_hub.get_info("last_ckpt", "(none yet)")} is intact; lower the learning rate or '
            f'check these images, then resume.')
