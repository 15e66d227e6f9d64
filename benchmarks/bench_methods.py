"""Do the methods help on the demo? Each against its baseline, over several training seeds, with the spread.

    python benchmarks/bench_methods.py [--seeds 0 1 2] [--data data/demo] [--eval-data data/demo_eval]

Models: the demo config trained with each seed (``work_dirs/bench_learning/seed<N>``, the models of
``bench_learning.py``, trained here if missing) and the same with the readers' boxes NOT fused for training
(``fusion=none``: every reader's box is a target). Each model writes submissions (``tools/test.py``) for two
evaluation sets, then everything is scored offline with the competition metric:

- ``val``: fold 0 of the demo's train.csv (40 images), ground truth = the three readers fused by WBF, as the
  validation during training;
- ``test``: a separate generated test set (``--eval-data``, 200 images by default, generated once), ground truth
  = every drawn finding (like Kaggle's 5-reader consensus).

Comparisons (baseline -> method), per seed, on both sets:
- fusion of the training targets: none -> wbf;
- test-time augmentation: off -> on (horizontal flip, WBF);
- the 2-class filter: off -> on, with an oracle-free probability of abnormality: the detector's own best score
  on the image, or the mean best score of the other seeds' detectors (no image classifier exists yet);
- seed ensembles: single models -> WBF of two models (every pair) -> WBF of all models.

The effect is mean(method) - mean(baseline); the spread is the larger standard deviation over seeds of the two.
An effect within the spread is reported as "no difference".
"""
import argparse
import itertools
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)


def run(args, log):
    """Run a tool quietly (its output goes to ``log``); fail loudly with the log's tail."""
    with open(log, 'w') as f:
        proc = subprocess.run([sys.executable, *args], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT)
    if proc.returncode:
        tail = open(log).read()[-3000:]
        raise SystemExit(f'{" ".join(args)} failed (exit {proc.returncode}); log {log}:\n{tail}')


def train(config, work, data, seed, fusion):
    if osp.isfile(osp.join(work, 'last_checkpoint')):
        return 0.0
    os.makedirs(work, exist_ok=True)
    start = time.time()
    run(['tools/train.py', config, '--data-path', data + '/', '--work-dir', work, '--cfg-options',
         f'randomness.seed={seed}', f'train_dataloader.dataset.fusion.type={fusion}'], osp.join(work, 'bench.log'))
    return (time.time() - start) / 60


def predict(config, work, data, split, tta, out):
    """tools/test.py submission of the val fold or the test images (skipped if already written)."""
    if osp.isfile(out):
        return
    ckpt = open(osp.join(work, 'last_checkpoint')).read().strip()
    args = ['tools/test.py', config, ckpt, '--data-path', data + '/', '--submission', out,
            '--work-dir', osp.join(work, 'bench_test')]
    run(args + (['--val'] if split == 'val' else []) + (['--tta'] if tta else []), out + '.log')


def best_scores(submission):
    """image_id -> the best finding score (the detector's own probability that the image is abnormal)."""
    from vinbig_mmdet.classes import NO_FINDING_ID
    return {i: float(max([s for s, lab in zip(sc, lb) if lab != NO_FINDING_ID], default=0.0))
            for i, (_, sc, lb) in submission.items()}


def summary(values):
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def verdict(base, method):
    (mb, sb), (mm, sm) = summary(base), summary(method)
    effect, spread = mm - mb, max(sb, sm)
    word = 'no difference' if abs(effect) <= spread else ('better' if effect > 0 else 'worse')
    return dict(baseline=f'{mb:.4f} +- {sb:.4f}', result=f'{mm:.4f} +- {sm:.4f}', effect=round(effect, 4),
                spread=round(spread, 4), verdict=word)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--config', default='configs/vinbig_faster_rcnn_demo.py')
    parser.add_argument('--data', default=osp.join(ROOT, 'data', 'demo'))
    parser.add_argument('--eval-data', default=osp.join(ROOT, 'data', 'demo_eval'),
                        help='test set to score on (generated here if absent: 200 images, seed 1)')
    parser.add_argument('--eval-size', type=int, default=200)
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'bench_learning'))
    args = parser.parse_args()
    from vinbig_mmdet.demo.synth import make_demo_dataset
    from vinbig_mmdet.evaluation import kaggle_map, no_finding_baseline, read_submission
    from vinbig_mmdet.evaluation.ensemble import ensemble_submissions
    from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv
    from vinbig_mmdet.evaluation.submission import filter_submission
    import pandas as pd

    if not osp.isfile(osp.join(args.eval_data, 'test_annotations.csv')):
        make_demo_dataset(args.eval_data, n_train=0, n_test=args.eval_size, seed=1, progress=False)
    folds = pd.read_csv(osp.join(args.data, 'folds.csv'), dtype={'image_id': str})
    val_ids = set(folds.loc[folds['fold'] == 0, 'image_id'])
    truths = {'val': {k: v for k, v in ground_truth_from_csv(osp.join(args.data, 'train.csv')).items()
                      if k in val_ids},
              'test': ground_truth_from_csv(osp.join(args.eval_data, 'test_annotations.csv'), fusion='none')}
    sets = {'val': args.data, 'test': args.eval_data}

    subs = {}  # (fusion, seed, set, tta) -> submission
    for fusion in ('wbf', 'none'):
        for seed in args.seeds:
            work = osp.join(args.work_dir, f'seed{seed}' if fusion == 'wbf' else f'none_seed{seed}')
            minutes = train(args.config, work, args.data, seed, fusion)
            if minutes:
                print(f'trained fusion={fusion} seed {seed} in {minutes:.1f} min', flush=True)
            for name, data in sets.items():
                for tta in ((False, True) if fusion == 'wbf' else (False,)):
                    out = osp.join(work, f'{name}{"_tta" if tta else ""}.csv')
                    predict(args.config, work, data, name, tta, out)
                    subs[fusion, seed, name, tta] = read_submission(out)
            print(f'predicted fusion={fusion} seed {seed}', flush=True)

    results = []
    for name, truth in truths.items():
        def score(sub):
            return kaggle_map(sub, truth)['mAP']
        plain = [score(subs['wbf', s, name, False]) for s in args.seeds]
        results.append(dict(set=name, method='train on fused targets (none -> wbf)',
                            **verdict([score(subs['none', s, name, False]) for s in args.seeds], plain)))
        results.append(dict(set=name, method='TTA flip (off -> on)',
                            **verdict(plain, [score(subs['wbf', s, name, True]) for s in args.seeds])))
        own = [score(filter_submission(subs['wbf', s, name, False], best_scores(subs['wbf', s, name, False])))
               for s in args.seeds]
        results.append(dict(set=name, method='2-class filter, p = own best score (off -> on)', **verdict(plain, own)))
        if len(args.seeds) > 1:
            others = []
            for s in args.seeds:
                probs = [best_scores(subs['wbf', o, name, False]) for o in args.seeds if o != s]
                mean_p = {i: statistics.mean(p[i] for p in probs) for i in probs[0]}
                others.append(score(filter_submission(subs['wbf', s, name, False], mean_p)))
            results.append(dict(set=name, method='2-class filter, p = other seeds\' best score (off -> on)',
                                **verdict(plain, others)))
            pairs = [score(ensemble_submissions([subs['wbf', a, name, False], subs['wbf', b, name, False]]))
                     for a, b in itertools.combinations(args.seeds, 2)]
            results.append(dict(set=name, method='ensemble of 2 seeds, WBF (single -> pair)', **verdict(plain, pairs)))
            everything = score(ensemble_submissions([subs['wbf', s, name, False] for s in args.seeds]))
            results.append(dict(set=name, method=f'ensemble of {len(args.seeds)} seeds, WBF (single -> all)',
                                **verdict(plain, [everything])))
        print(f'\n{name}: {len(truth)} images, chance (all "No finding") {no_finding_baseline(truth):.4f}; '
              f'per seed (plain): ' + ', '.join(f'{v:.4f}' for v in plain))

    table = pd.DataFrame(results)
    with pd.option_context('display.width', 200, 'display.max_colwidth', 60):
        print('\n' + table.to_string(index=False))
    with open(osp.join(args.work_dir, 'methods.json'), 'w') as f:
        json.dump(results, f, indent=1)


if __name__ == '__main__':
    main()
