"""The runner: training that survives being killed (atomic checkpoint files, a resume that says what it does),
checkpoints checked against the model before they are loaded, and CPU-only distributed runs. Its hooks (the
checkpoint hook that deletes only after a save, the non-finite loss guard, the train/val overlap check) are in
:mod:`vinbig_mmdet.engine.hooks`."""
import contextlib
import itertools
import os
import os.path as osp

from mmengine.dist import broadcast_object_list, is_main_process
from mmengine.registry import RUNNERS  # the root registry: tools build runners by runner_type without a scope
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint

from ..io.atomic import durable_replace
from .checkpoint import (
    HEAD_REPLACEMENT,
    CheckpointError,
    is_complete_checkpoint,
    load_weights,
    newest_checkpoint,
    read_checkpoint,
)
from .distributed import init_cpu_process_group
from .hooks import with_overlap_check
from .work_dir_lock import WorkDirLockedError, remove_stale_temporaries, work_dir_lock

_VISUALIZER_NUMBERS = itertools.count(1)


@RUNNERS.register_module()
class VinBigRunner(Runner):
    """MMEngine's Runner with atomic checkpoint files, an explicit resume, checkpoints that must fit the model
    (:mod:`vinbig_mmdet.engine.checkpoint`; ``allow_partial_checkpoint=True`` in the config loads what fits) and
    CPU-only distributed runs."""

    _checkpoint_use = 'load_from'  # 'test' (test/val), 'resume' or 'load_from' (training start)

    def setup_env(self, env_cfg: dict) -> None:
        if self.distributed:
            init_cpu_process_group(self.launcher, env_cfg)  # before MMEngine's, which needs a GPU
        super().setup_env(env_cfg)

    def build_visualizer(self, visualizer=None):
        # MMDetection's runtime names its visualizer 'visualizer', and MMEngine hands an existing instance of that
        # name back with its first save_dir: a second runner in one process (folds trained in a loop in a
        # notebook) would write its scalars and config into the first run's folder. Each runner gets its own,
        # named after its experiment and numbered (two runners can start within the same second); a name set in the
        # config is replaced too (MMDetection's hooks find the visualizer with get_current_instance, not by name).
        if isinstance(visualizer, dict):
            visualizer = dict(visualizer, name=f'{self._experiment_name}_{next(_VISUALIZER_NUMBERS)}')
        return super().build_visualizer(visualizer)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        # The train/val overlap check runs whatever a config's custom_hooks say.
        super().register_hooks(default_hooks, with_overlap_check(custom_hooks))

    def save_checkpoint(self, out_dir: str, filename: str, *args, **kwargs) -> None:
        # Written under a temporary name and renamed: a kill mid-write never leaves a broken file that looks final.
        tmp_name = f'.{filename}.tmp'
        tmp = osp.join(out_dir, tmp_name)
        try:
            super().save_checkpoint(out_dir, tmp_name, *args, **kwargs)
            if is_main_process() and osp.isfile(tmp):
                durable_replace(tmp, osp.join(out_dir, filename))
        except OSError as exc:  # disk full, quota, I/O error: no partial file left to fail the next run
            if osp.isfile(tmp):
                os.remove(tmp)
            raise CheckpointError(
                f'{osp.join(out_dir, filename)}: writing the checkpoint failed ({exc.strerror or exc}); the partial '
                f'file was removed and the earlier checkpoints are intact. Free space in {out_dir}, then continue '
                f'with --resume') from exc

    def train(self):
        # One training per work dir (lock held by the main process for the whole run, the others told to stop
        # with it when it is refused); then the temporaries of an earlier, killed checkpoint write are removed.
        with contextlib.ExitStack() as stack:
            refusal = None
            if is_main_process():
                try:
                    stack.enter_context(work_dir_lock(self.work_dir, self.logger.info))
                except WorkDirLockedError as exc:
                    refusal = str(exc)
            shared = [refusal]
            broadcast_object_list(shared)
            if shared[0] is not None:
                raise WorkDirLockedError(shared[0])
            if is_main_process():
                remove_stale_temporaries(self.work_dir, self.logger.info)
            return super().train()

    def test(self):
        self._checkpoint_use = 'test'
        return super().test()

    def val(self):
        self._checkpoint_use = 'test'
        return super().val()

    def resume(self, filename: str, *args, **kwargs) -> None:
        self._checkpoint_use = 'resume'
        return super().resume(filename, *args, **kwargs)

    def load_checkpoint(self, filename: str, map_location='cpu', strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):  # noqa: B006  (MMEngine's signature)
        """MMEngine's load_checkpoint, but a file that is not a checkpoint, or does not fit the model, is one
        :class:`CheckpointError` (see :mod:`vinbig_mmdet.engine.checkpoint`)."""
        checkpoint = read_checkpoint(filename, map_location=map_location)
        use = self._checkpoint_use
        if use == 'resume' and 'meta' not in checkpoint:
            raise CheckpointError(f'--resume {filename}: not a training checkpoint (it holds weights only, no '
                                  f'epoch or optimizer state); start a new run from it with load_from={filename}')
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        allow_partial = bool(self.cfg.get('allow_partial_checkpoint', False)) and not strict
        fix = {'test': 'give the checkpoint this config trained, or --allow-partial to load only the weights that '
                       'fit',
               'resume': 'resume with the config that wrote it',
               'load_from': 'give a checkpoint of this architecture (its box head may have another class count), '
                            'or set allow_partial_checkpoint=True (--cfg-options) to load only what fits'}[use]
        load_weights(self.model, checkpoint, filename, allow_partial,
                     replaceable=HEAD_REPLACEMENT if use == 'load_from' else (), fix=fix, logger=self.logger,
                     revise_keys=revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

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
