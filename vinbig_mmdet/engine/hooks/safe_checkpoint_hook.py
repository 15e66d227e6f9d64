"""A checkpoint hook that never leaves a run without a good checkpoint: an old one is deleted only after its
successor (and ``last_checkpoint``) is written."""
import os
import os.path as osp

from mmdet.registry import HOOKS
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook

from ...io.atomic import atomic_open


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """CheckpointHook that removes an old checkpoint only after its successor and ``last_checkpoint`` are
    safely written (MMEngine's removes it first)."""

    def _save_checkpoint_with_step(self, runner, step, meta):
        expired = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                expired.append(self.keep_ckpt_ids[0])  # the deque (maxlen) drops it on append
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(self.out_dir, ckpt_filename, self.file_client_args,
                               save_optimizer=self.save_optimizer, save_param_scheduler=self.save_param_scheduler,
                               meta=meta, by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        with atomic_open(osp.join(runner.work_dir, 'last_checkpoint'), 'w') as f:
            f.write(self.last_ckpt)
        for old in expired:
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)

    def _save_best_checkpoint(self, runner, metrics) -> None:
        previous = self.best_ckpt_path
        self.best_ckpt_path = None  # keeps the parent from deleting it before the new best is written
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            if self.best_ckpt_path is None:
                self.best_ckpt_path = previous
            elif previous and previous != self.best_ckpt_path and is_main_process() and osp.isfile(previous):
                os.remove(previous)
                runner.logger.info(f'The previous best checkpoint {previous} is removed')
