"""Training curves from what MMEngine already writes: ``<work_dir>/<timestamp>/vis_data/scalars.json``."""
import glob
import json
import os.path as osp
from typing import Dict, List, Tuple


def read_scalars(work_dir: str) -> Tuple[List[Dict], List[Dict]]:
    """(training iterations, validation epochs) of every training run in ``work_dir``, resumed runs joined.

    Runs of tools/test.py in the same folder (no training records) are left out.
    """
    train, val = {}, {}
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json'))):
        records = [json.loads(line) for line in open(path) if line.strip()]
        if not any('loss' in r for r in records):
            continue
        for r in records:
            if 'loss' in r:
                train[r['iter']] = r  # a resumed run repeats nothing, but the latest wins if it did
            elif any(k.startswith('vinbig/') for k in r):
                val[r['step']] = r
    return [train[k] for k in sorted(train)], [val[k] for k in sorted(val)]


def plot_curves(work_dir: str, out: str) -> str:
    """Losses, learning rate, validation mAP and per-class AP in one PNG; returns its path."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    train, val = read_scalars(work_dir)
    if not train:
        raise FileNotFoundError(f'{work_dir}: no training logs (*/vis_data/scalars.json with losses)')
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    iters = [r['iter'] for r in train]
    for key in sorted({k for r in train for k in r if k.startswith('loss')}):
        axes[0, 0].plot(iters, [r.get(key) for r in train], label=key, lw=1.5 if key == 'loss' else 1)
    axes[0, 0].set(title='training losses', xlabel='iteration', yscale='log')
    axes[0, 0].legend(fontsize=8)
    axes[0, 1].plot(iters, [r['lr'] for r in train], color='tab:purple')
    axes[0, 1].set(title='learning rate', xlabel='iteration')
    if val:
        epochs = [r['step'] for r in val]
        axes[1, 0].plot(epochs, [r['vinbig/mAP'] for r in val], 'o-', color='tab:red')
        axes[1, 0].set(title=f'validation mAP@0.4 (last {val[-1]["vinbig/mAP"]:.4f})', xlabel='epoch',
                       ylim=(0, 1))
        for key in sorted({k for r in val for k in r if k.startswith('vinbig/AP_')}):
            axes[1, 1].plot(epochs, [r.get(key) for r in val], 'o-', ms=3, label=key[len('vinbig/AP_'):])
        axes[1, 1].set(title='validation AP per class', xlabel='epoch', ylim=(0, 1.05))
        axes[1, 1].legend(fontsize=6, ncol=2)
    else:
        for ax in axes[1]:
            ax.text(0.5, 0.5, 'no validation yet', ha='center', va='center')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
