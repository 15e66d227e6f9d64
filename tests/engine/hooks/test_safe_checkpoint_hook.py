"""SafeCheckpointHook deletes an expired checkpoint only after the newer one (and last_checkpoint) is written, so a
run killed or failing mid-save always keeps a complete checkpoint to resume from."""
import logging

import pytest
from mmengine.hooks import CheckpointHook
from mmengine.logging import MessageHub

from vinbig_mmdet.engine.hooks import SafeCheckpointHook


class SavingRunner:
    """What the hook uses of a runner; save_checkpoint records which checkpoints existed when it was called."""

    def __init__(self, work_dir, fail_at=None):
        self.work_dir, self.fail_at = str(work_dir), fail_at
        self.message_hub = MessageHub(f'ckpt-{id(self)}')
        self.logger = logging.getLogger('test')
        self.seen, self.epoch, self.iter = {}, 0, 0

    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        self.seen[filename] = sorted(p.name for p in self.dir.glob('*.pth'))
        if filename == self.fail_at:
            raise OSError(28, 'No space left on device')
        (self.dir / filename).write_bytes(b'ckpt')

    @property
    def dir(self):
        from pathlib import Path
        return Path(self.work_dir)


def save_epochs(hook, runner, epochs):
    hook.before_train(runner)
    for epoch in epochs:
        hook._save_checkpoint_with_step(runner, epoch, meta={})


def test_old_checkpoint_is_deleted_only_after_the_new_one_is_saved(tmp_path):
    runner = SavingRunner(tmp_path)
    save_epochs(SafeCheckpointHook(interval=1, max_keep_ckpts=2), runner, [1, 2, 3, 4])
    # when epoch 3 was being written, epoch 1 (about to expire) was still there
    assert runner.seen['epoch_3.pth'] == ['epoch_1.pth', 'epoch_2.pth']
    assert runner.seen['epoch_4.pth'] == ['epoch_2.pth', 'epoch_3.pth']
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pth')) == ['epoch_3.pth', 'epoch_4.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_4.pth')


def test_a_failed_save_deletes_nothing(tmp_path):
    runner = SavingRunner(tmp_path, fail_at='epoch_3.pth')
    with pytest.raises(OSError):
        save_epochs(SafeCheckpointHook(interval=1, max_keep_ckpts=2), runner, [1, 2, 3])
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pth')) == ['epoch_1.pth', 'epoch_2.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_2.pth')


def test_mmengines_own_hook_deletes_first(tmp_path):
    """The behaviour SafeCheckpointHook exists to change (the check above would fail for MMEngine's hook)."""
    runner = SavingRunner(tmp_path)
    save_epochs(CheckpointHook(interval=1, max_keep_ckpts=2), runner, [1, 2, 3])
    assert runner.seen['epoch_3.pth'] == ['epoch_2.pth']


def test_previous_best_is_removed_only_after_the_new_best_is_written(tmp_path):
    runner = SavingRunner(tmp_path)
    hook = SafeCheckpointHook(interval=1, save_best='vinbig/mAP', rule='greater')
    hook.before_train(runner)
    runner.epoch = 1
    hook._save_best_checkpoint(runner, {'vinbig/mAP': 0.2})
    runner.epoch = 2
    hook._save_best_checkpoint(runner, {'vinbig/mAP': 0.3})
    assert runner.seen['best_vinbig_mAP_epoch_2.pth'] == ['best_vinbig_mAP_epoch_1.pth']
    assert [p.name for p in tmp_path.glob('*.pth')] == ['best_vinbig_mAP_epoch_2.pth']
    assert hook.best_ckpt_path == str(tmp_path / 'best_vinbig_mAP_epoch_2.pth')
