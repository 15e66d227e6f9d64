"""Do the methods help on the demo? Each against its baseline, over several training seeds, with the spread.

    python benchmarks/bench_methods.py [--seeds 0 1 2] [--data data/demo] [--eval-data data/demo_eval]

Models: the demo config trained with each seed (``<work-dir>/seed<N>``: the models of ``bench_learning.py`` with
the same ``--work-dir``, trained here if missing) and the same with the readers' boxes NOT fused for training
(``<work-dir>/none_seed<N>``, ``fusion=none``: every reader's box is a target). Each model writes submissions with
``tools/test.py`` for a separate generated test set (``--eval-data``, ``--eval-size`` images, generated once with
data seed 1; ground truth = every drawn finding, like Kaggle's 5-reader consensus), scored with the competition
metric. Comparisons (baseline -> method), per seed:

- fusion of the training targets: none -> wbf;
- test-time augmentation: off -> on (horizontal flip, WBF);
- seed ensembles: single models -> WBF of two models (every pair) -> WBF of all models.

The 2-class filter is measured by ``bench_two_class_filter.py`` (with the project's classifier) on the same
detectors. The effect is mean(method) - mean(baseline); the spread is the larger standard deviation over seeds of
the two (``vinbig_mmdet.analysis.seed_spread.verdict``); an effect within the spread is reported as "no difference".
"""
import argparse
import itertools
import json
import os
import os.path as osp
import subprocess
import sys
import time

from vinbig_mmdet.analysis.seed_spread import mean_std, verdict
from vinbig_mmdet.engine.checkpoint import newest_checkpoint

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run(args, log):
    """Run a tool quietly (its output goes to ``log``); fail loudly with the log's tail."""
    with open(log, 'w') as f:
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        with open(log) as f:
            tail = f.read()[-3000:]
        raise SystemExit(f'{" ".join(args)} failed (exit {proc.returncode}); log {log}:\n{tail}')


def train(config, work, data, seed, fusion):
    """Train unless ``work`` already holds a finished run; the minutes it took (0 if reused)."""
    if osp.isfile(osp.join(work, 'last_checkpoint')):
        return 0.0
    os.makedirs(work, exist_ok=True)
    start = time.time()
    run(['tools/train.py', config, '--data-path', data + '/', '--work-dir', work, '--cfg-options',
         f'randomness.seed={seed}', f'train_dataloader.dataset.fusion.type={fusion}'], osp.join(work, 'bench.log'))
    return (time.time() - start) / 60


def predict(config, work, data, tta, out):
    """tools/test.py submission for the test images of ``data`` (skipped if already written)."""
    if osp.isfile(out):
        return
    ckpt = newest_checkpoint(work)
    args = ['tools/test.py', config, ckpt, '--data-path', data + '/', '--submission', out,
            '--work-dir', osp.join(work, 'bench_test')]
    run(args + (['--tta'] if tta else []), out + '.log')


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--config', default='configs/vinbig_faster_rcnn_demo.py')
    parser.add_argument('--data', default=osp.join(ROOT, 'data', 'demo'))
    parser.add_argument('--eval-data', default=osp.join(ROOT, 'data', 'demo_eval'),
                        help='test set to score on (generated here if absent: --eval-size images, data seed 1)')
    parser.add_argument('--eval-size', type=int, default=80)
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'bench_learning'))
    parser.add_argument('--fusions', nargs='+', choices=['wbf', 'none'], default=['wbf', 'none'],
                        help='training-target fusions to train and compare (--fusions wbf: only the seed models of '
                             'bench_learning.py, no fusion comparison)')
    args = parser.parse_args()
    import pandas as pd

    from vinbig_mmdet.demo.synth import make_demo_dataset
    from vinbig_mmdet.evaluation import kaggle_map, no_finding_baseline, read_submission
    from vinbig_mmdet.evaluation.ensemble import ensemble_submissions
    from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv

    if not osp.isfile(osp.join(args.eval_data, 'test_annotations.csv')):
        make_demo_dataset(args.eval_data, n_train=0, n_test=args.eval_size, seed=1, progress=False)
    truth = ground_truth_from_csv(osp.join(args.eval_data, 'test_annotations.csv'), fusion='none')
    print(f'load average before: {os.getloadavg()[0]:.1f} (2 cores: above 2 means other work shares them)',
          flush=True)

    subs = {}  # (fusion, seed, tta) -> submission
    for fusion in dict.fromkeys(['wbf', *args.fusions]):  # wbf first: the baseline of every other comparison
        for seed in args.seeds:
            work = osp.join(args.work_dir, f'seed{seed}' if fusion == 'wbf' else f'none_seed{seed}')
            minutes = train(args.config, work, args.data, seed, fusion)
            if minutes:
                print(f'trained fusion={fusion} seed {seed} in {minutes:.1f} min '
                      f'(load average {os.getloadavg()[0]:.1f})', flush=True)
            for tta in ((False, True) if fusion == 'wbf' else (False,)):
                out = osp.join(work, f'eval{"_tta" if tta else ""}.csv')
                predict(args.config, work, args.eval_data, tta, out)
                subs[fusion, seed, tta] = read_submission(out)
            print(f'predicted fusion={fusion} seed {seed}', flush=True)

    def score(sub):
        return kaggle_map(sub, truth)['mAP']
    plain = [score(subs['wbf', s, False]) for s in args.seeds]
    results = []
    if 'none' in args.fusions:
        results.append(dict(method='train on fused targets (none -> wbf)',
                            **verdict([score(subs['none', s, False]) for s in args.seeds], plain)))
    flipped = [score(subs['wbf', s, True]) for s in args.seeds]
    results.append(dict(method='TTA flip (off -> on)', **verdict(plain, flipped)))
    if len(args.seeds) > 1:
        pairs = [score(ensemble_submissions([subs['wbf', a, False], subs['wbf', b, False]]))
                 for a, b in itertools.combinations(args.seeds, 2)]
        results.append(dict(method='ensemble of 2 seeds, WBF (single -> pair)', **verdict(plain, pairs)))
        everything = score(ensemble_submissions([subs['wbf', s, False] for s in args.seeds]))
        results.append(dict(method=f'ensemble of {len(args.seeds)} seeds, WBF (single -> all)',
                            **verdict(plain, [everything])))
    mean, std = mean_std(plain)
    print(f'\ntest set {args.eval_data}: {len(truth)} images, chance (all "No finding") '
          f'{no_finding_baseline(truth):.4f}; single models (wbf, no TTA) {mean:.4f} +- {std:.4f}: '
          + ', '.join(f'seed {s} {v:.4f}' for s, v in zip(args.seeds, plain)))
    table = pd.DataFrame(results)
    with pd.option_context('display.width', 200, 'display.max_colwidth', 60):
        print('\n' + table.to_string(index=False))
    with open(osp.join(args.work_dir, 'methods.json'), 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
