"""Training that survives being killed: atomic checkpoints, a checkpoint hook that deletes only after a save,
a resume that says what it does, and a guard against non-finite losses."""
import datetime
import glob
import os
import os.path as osp
import re
import zipfile
from typing import Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint
from mmdet.registry import HOOKS
from mmengine.registry import RUNNERS  # the root registry: tools build runners by runner_type without a scope

from ..io.atomic import atomic_open, durable_replace
from .hooks import with_overlap_check


def write_text_atomic(path: str, text: str) -> None:
    with atomic_open(path, 'w') as f:
        f.write(text)


def is_complete_checkpoint(path: str) -> bool:
    """A checkpoint torch.save finished writing (its zip directory, written last, is there)."""
    return osp.isfile(path) and zipfile.is_zipfile(path)


def newest_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete ``epoch_N.pth`` / ``iter_N.pth`` in ``work_dir``."""
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(path))
        if match and is_complete_checkpoint(path):
            found.append((int(match.group(2)), path))
    return max(found)[1] if found else None


@RUNNERS.register_module()
class VinBigRunner(Runner):
    """MMEngine's Runner with atomic checkpoint files, an explicit resume, and CPU-only distributed runs."""

    def setup_env(self, env_cfg: dict) -> None:
        # MMEngine's init_dist for the pytorch launcher always calls torch.cuda.set_device; without GPUs the
        # process group is started here with gloo instead (MMEngine then finds it initialised).
        if self.distributed and not torch.cuda.is_available() and not torch.distributed.is_initialized():
            if self.launcher != 'pytorch':
                raise RuntimeError(f'launcher {self.launcher!r} without GPUs is not supported; use torchrun')
            timeout = env_cfg.get('dist_cfg', {}).get('timeout')
            kwargs = {} if timeout is None else dict(timeout=datetime.timedelta(seconds=timeout))
            torch.distributed.init_process_group(backend='gloo', **kwargs)
        super().setup_env(env_cfg)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        # The train/val overlap check runs whatever a config's custom_hooks say.
        super().register_hooks(default_hooks, with_overlap_check(custom_hooks))

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        # Written under a temporary name and renamed: a kill mid-write never leaves a broken file that looks final.
        tmp_name = f'.{filename}.tmp'
        super().save_checkpoint(out_dir, tmp_name, *args, **kwargs)
        tmp = osp.join(out_dir, tmp_name)
        if is_main_process() and osp.isfile(tmp):
            durable_replace(tmp, osp.join(out_dir, filename))

    def load_or_resume(self) -> None:
        if self._has_loaded:
            return
        if self._resume and self._load_from is None:
            latest = find_latest_checkpoint(self.work_dir)
            if latest is not None and not is_complete_checkpoint(latest):
                self.logger.warning(f'--resume: last_checkpoint names {latest}, which is missing or incomplete')
                latest = None
            if latest is None:
                latest = newest_checkpoint(self.work_dir)
            if latest is None:
                self.logger.warning(f'--resume: no checkpoint in {self.work_dir}; nothing to resume, '
                                    f'training starts from scratch')
                self._resume = False
            else:
                self.logger.info(f'--resume: resuming from {latest}')
                self._load_from = latest
        elif self._resume and not osp.isfile(self._load_from):
            raise FileNotFoundError(f'--resume {self._load_from}: no such checkpoint')
        super().load_or_resume()


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
        write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
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
