"""The 2-class filter fed by the project's own image classifier, on the demo data, in one run: test-set mAP@0.4 of
the demo detector without and with the filter, the filter with a perfect classifier (the ceiling), and the
classifier's AUC on the test images and on the validation fold.

    python benchmarks/bench_two_class_filter.py [--data data/demo] [--work-dir work_dirs/bench_two_class_filter]
                                                [--detector-ckpt CKPT [CKPT ...]] [--classifier-ckpt CKPT]

Self-contained: generates the demo data (tools/make_demo_data.py defaults) and its folds when --data has none,
trains the demo detector (configs/vinbig_faster_rcnn_demo.py) and the demo classifier
(configs/abnormality-classifier_r18_demo.py) through tools/train.py unless their checkpoints are given, writes the
classifier's probabilities with tools/predict_abnormal.py and the submissions with tools/test.py
(--abnormal-probs), and scores them against the generated test truth. Given several detector checkpoints (e.g.
the training seeds of bench_learning.py: work_dirs/bench_learning/seed*/epoch_16.pth), every figure is the mean
+- the standard deviation over the detectors, and the filter's effect is judged against that spread
(seed_spread.verdict: an effect within the spread is "no difference").
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time

from vinbig_mmdet.analysis.seed_spread import mean_std, verdict
from vinbig_mmdet.engine.checkpoint import newest_checkpoint

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))

DETECTOR = 'configs/vinbig_faster_rcnn_demo.py'
CLASSIFIER = 'configs/abnormality-classifier_r18_demo.py'


def run(*args) -> str:
    print('$ ' + ' '.join(map(str, args)), flush=True)
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f'failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}')
    return proc.stdout


def train(config: str, data: str, work: str) -> tuple:
    """Train ``config`` on ``data`` into ``work``; the last checkpoint and the minutes it took."""
    start = time.time()
    run('tools/train.py', config, '--data-path', data + '/', '--work-dir', work)
    return newest_checkpoint(work), (time.time() - start) / 60


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', default=osp.join(ROOT, 'data', 'demo'))
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'bench_two_class_filter'))
    parser.add_argument('--detector-ckpt', nargs='+',
                        help='one or more trained demo detectors, e.g. one per training seed (default: train one)')
    parser.add_argument('--classifier-ckpt', help='a trained demo classifier (default: train one)')
    parser.add_argument('--fold', type=int, default=0, help='validation fold of the configs (default 0)')
    parser.add_argument('--detector-config', default=DETECTOR, help=f'(default {DETECTOR})')
    parser.add_argument('--classifier-config', default=CLASSIFIER, help=f'(default {CLASSIFIER})')
    args = parser.parse_args()
    import numpy as np
    import pandas as pd

    from vinbig_mmdet.datasets.annotations import read_annotations
    from vinbig_mmdet.datasets.folds import make_folds
    from vinbig_mmdet.demo.synth import make_demo_dataset
    from vinbig_mmdet.evaluation import kaggle_map, no_finding_baseline, read_submission, roc_auc
    from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv
    from vinbig_mmdet.evaluation.submission import filter_submission, read_abnormal_probabilities

    data, work = osp.abspath(args.data), osp.abspath(args.work_dir)
    os.makedirs(work, exist_ok=True)
    if not osp.isfile(osp.join(data, 'train.csv')):
        make_demo_dataset(data, seed=0, progress=False)
    if not osp.isfile(osp.join(data, 'folds.csv')):
        make_folds(read_annotations(osp.join(data, 'train.csv')), n_splits=5, seed=42).to_csv(
            osp.join(data, 'folds.csv'), index=False)

    det_ckpts, det_minutes = args.detector_ckpt, None
    if not det_ckpts:
        det_ckpt, det_minutes = train(args.detector_config, data, osp.join(work, 'detector'))
        det_ckpts = [det_ckpt]
    cls_ckpt, cls_minutes = (args.classifier_ckpt, None) if args.classifier_ckpt else \
        train(args.classifier_config, data, osp.join(work, 'classifier'))

    test_probs, val_probs = osp.join(work, 'probs_test.csv'), osp.join(work, 'probs_val.csv')
    predict = ['tools/predict_abnormal.py', args.classifier_config, cls_ckpt, '--data-path', data + '/',
               '--work-dir', osp.join(work, 'predict')]
    run(*predict, '--out', test_probs)
    run(*predict, '--out', val_probs, '--val', '--fold', args.fold)
    submissions = []  # (plain, filtered) per detector
    for k, det_ckpt in enumerate(det_ckpts):
        plain, filtered = osp.join(work, f'submission{k}.csv'), osp.join(work, f'submission{k}_filtered.csv')
        run('tools/test.py', args.detector_config, det_ckpt, '--data-path', data + '/', '--submission', plain,
            '--work-dir', osp.join(work, 'test'))
        run('tools/test.py', args.detector_config, det_ckpt, '--data-path', data + '/', '--submission', filtered,
            '--abnormal-probs', test_probs, '--work-dir', osp.join(work, 'test'))
        submissions.append((read_submission(plain), read_submission(filtered)))

    truth = ground_truth_from_csv(osp.join(data, 'test_annotations.csv'), fusion='none')
    test_rows = pd.read_csv(osp.join(data, 'test_annotations.csv'), dtype={'image_id': str})
    abnormal_test = set(test_rows.loc[test_rows['class_id'] != 14, 'image_id'])
    train_rows = pd.read_csv(osp.join(data, 'train.csv'), dtype={'image_id': str})
    abnormal_train = set(train_rows.loc[train_rows['class_id'] != 14, 'image_id'])
    p_test, p_val = read_abnormal_probabilities(test_probs), read_abnormal_probabilities(val_probs)
    perfect = {i: float(i in abnormal_test) for i in p_test}

    scored = [(kaggle_map(p, truth), kaggle_map(f, truth), kaggle_map(filter_submission(p, perfect), truth))
              for p, f in submissions]
    names = ['no filter', "filter, the project's classifier", 'filter, a perfect classifier (ceiling)']
    results = [(name, [s[k] for s in scored]) for k, name in enumerate(names)]
    auc_test = roc_auc([i in abnormal_test for i in p_test], list(p_test.values()))
    auc_val = roc_auc([i in abnormal_train for i in p_val], list(p_val.values()))
    acc_test = float(np.mean([(p >= 0.5) == (i in abnormal_test) for i, p in p_test.items()]))
    n_low = sum(p < 0.08 for p in p_test.values())
    n_high = sum(p >= 0.95 for p in p_test.values())

    print(f'\nDemo data {data}: {len(p_test)} test images ({len(abnormal_test)} abnormal), validation fold '
          f'{args.fold}: {len(p_val)} images ({sum(i in abnormal_train for i in p_val)} abnormal)')
    print(f'classifier ({args.classifier_config}): AUC {auc_test:.4f} on the test images (accuracy at 0.5: '
          f'{acc_test:.4f}), {auc_val:.4f} on validation fold {args.fold}'
          + (f'; trained in {cls_minutes:.1f} min' if cls_minutes is not None else ''))
    print(f'filter (p < 0.08: "No finding" only; p >= 0.95: detections kept; between: "No finding" = 1 - p): '
          f'{n_low} test images called normal, {n_high} kept as they are, {len(p_test) - n_low - n_high} between')
    if det_minutes is not None:
        print(f'detector trained in {det_minutes:.1f} min')
    if len(det_ckpts) > 1:
        for name, result in results[1:]:
            v = verdict([r['mAP'] for r in results[0][1]], [r['mAP'] for r in result])
            print(f'{name}: effect on mAP@0.4 {v["effect"]:+.4f}, spread over the {len(det_ckpts)} detectors '
                  f'{v["spread"]:.4f}: {v["verdict"]}')
        print('per detector (no filter / classifier / ceiling): ' + '; '.join(
            f'{osp.basename(osp.dirname(c)) or c}: ' + ' / '.join(f'{s[k]["mAP"]:.4f}' for k in range(3))
            for c, s in zip(det_ckpts, scored)))
    header = f'test set, {osp.basename(args.detector_config)}' + (f' ({len(det_ckpts)} detectors)'
                                                                  if len(det_ckpts) > 1 else '')
    print(f'\n{header:<48} {"mAP@0.4":>8} {"+- std":>7} {"AP No finding":>14}')
    for name, result in results:
        (m, sd), ap14 = mean_std([r['mAP'] for r in result]), mean_std([r['AP'][14] for r in result])[0]
        print(f'{name:<48} {m:8.4f} {sd:7.4f} {ap14:14.4f}')
    chance = 'chance (every image "No finding")'
    print(f'{chance:<48} {no_finding_baseline(truth):8.4f}')


if __name__ == '__main__':
    main()
