"""The one line tools/train.py ends with: what the run achieved and where it is."""
import os.path as osp
import re


def format_duration(seconds: float) -> str:
    return f'{seconds:.0f} s' if seconds < 120 else f'{seconds / 60:.1f} min'


def train_summary(runner, seconds: float) -> str:
    """Best validation mAP@0.4, its epoch and checkpoint, the last checkpoint, the device and the wall time."""
    hub = runner.message_hub
    best, best_ckpt = hub.get_info('best_score'), hub.get_info('best_ckpt')
    last = hub.get_info('last_ckpt') or osp.join(runner.work_dir, '(no checkpoint written)')
    device = next(runner.model.parameters()).device
    where = f'trained to epoch {runner.epoch} on {device} in {format_duration(seconds)}'
    if best is None or not best_ckpt:
        return f'Training done: no validation mAP (validation never ran); last checkpoint {last}; {where}'
    epoch = re.search(r'epoch_(\d+)', osp.basename(best_ckpt))
    return (f'Training done: best mAP@0.4 {best:.4f} at epoch {epoch.group(1) if epoch else "?"} ({best_ckpt}); '
            f'last checkpoint {last}; {where}')
