# Fuse several Kaggle submissions (folds, models) with weighted boxes fusion; --tune searches the weights on
# out-of-fold predictions.
import argparse
import itertools
import json
import sys

from vinbig_mmdet.classes import COMPETITION_IOU_THR, FILTER_HIGH, FILTER_LOW
from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.datasets.annotations import read_sizes
from vinbig_mmdet.errors import InputError, require_path
from vinbig_mmdet.evaluation import format_prediction_string, kaggle_map, read_submission, write_submission
from vinbig_mmdet.evaluation.ensemble import ensemble_submissions
from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv
from vinbig_mmdet.evaluation.submission import (
    average_abnormal_probabilities,
    check_filter_thresholds,
    filter_submission,
)
from vinbig_mmdet.io.atomic import atomic_open


def parse_args():
    parser = argparse.ArgumentParser(
        description='Fuse submissions with WBF per image and class (normalised by each image\'s original size). '
        'With --tune: search the submissions\' weights (and --tune-iou thresholds) for the best mAP@0.4 of the '
        'fused out-of-fold predictions against --ground-truth; then fuse the test submissions with those weights.')
    parser.add_argument('submissions', nargs='+',
                        help='submission CSVs (image_id,PredictionString), one per model; A_0.csv,A_1.csv,... '
                        '(comma-joined) is one model\'s out-of-fold files, read as one')
    parser.add_argument('--out', help='fused submission CSV (with --tune: the OOF fused with the best weights)')
    parser.add_argument('--weights', nargs='+', type=float, help='one weight per submission (default: equal)')
    parser.add_argument('--iou-thr', type=float, default=COMPETITION_IOU_THR,
                        help='WBF IoU threshold (default %(default)s)')
    parser.add_argument('--skip-box-thr', type=float, default=0.0, help='ignore boxes scored below this')
    parser.add_argument('--meta', help='CSV image_id,width,height (or dim0,dim1) of the original images (optional: '
                        'without it boxes are normalised by their common extent, which fuses identically)')
    parser.add_argument('--abnormal-probs', nargs='+', metavar='CSV',
                        help='CSV image_id,prob: apply the 2-class filter to the result; several CSVs of the same '
                        'images (e.g. one per classifier fold) are averaged')
    parser.add_argument('--filter-low', type=float, default=FILTER_LOW,
                        help='2-class filter: below, "No finding" only (default %(default)s)')
    parser.add_argument('--filter-high', type=float, default=FILTER_HIGH,
                        help='2-class filter: above, detections only (default %(default)s)')
    tune = parser.add_argument_group('weight search on out-of-fold predictions')
    tune.add_argument('--tune', action='store_true', help='search the weights instead of fusing with --weights')
    tune.add_argument('--ground-truth', help='train.csv-format ground truth of the out-of-fold images')
    tune.add_argument('--tune-weights', nargs='+', type=float, default=[0, 1, 2, 3],
                      help='weights tried for each submission (default 0 1 2 3; 0 leaves it out)')
    tune.add_argument('--tune-iou', nargs='+', type=float, help='WBF IoU thresholds tried (default: --iou-thr)')
    tune.add_argument('--save-tuned', metavar='JSON', help='with --tune: write the chosen weights, IoU threshold and '
                      'OOF mAP@0.4 here (read back by --tuned)')
    parser.add_argument('--tuned', metavar='JSON', help='fuse with the weights and IoU threshold of a --save-tuned '
                        'file (instead of --weights and --iou-thr)')
    return parser.parse_args()


def read_model(spec: str):
    """One model's predictions: a submission, or comma-joined out-of-fold files that cover disjoint images."""
    merged = {}
    for path in spec.split(','):
        require_path(path, 'write it with tools/test.py --submission (--val --fold K for out-of-fold files)')
        sub = read_submission(path)
        twice = set(sub) & set(merged)
        if twice:
            raise InputError(f'{path} repeats {len(twice)} image(s) of the other files in {spec}, e.g. '
                             f'{sorted(twice)[:3]}: out-of-fold files must cover disjoint images')
        merged.update(sub)
    return merged


def weight_grid(n: int, values):
    """Every weight vector over ``values``, without all-zero ones or multiples of one already listed."""
    seen = set()
    for ws in itertools.product(sorted(set(values)), repeat=n):
        if not any(ws):
            continue
        positive = [w for w in ws if w]
        key = tuple(round(w / min(positive), 6) for w in ws)
        if key not in seen:
            seen.add(key)
            yield ws


def tune(args, subs, sizes):
    if not args.ground_truth:
        raise InputError('--tune needs --ground-truth (train.csv-format truth of the out-of-fold images)')
    images = set().union(*subs)
    truth = ground_truth_from_csv(args.ground_truth, image_ids=images)
    if len(truth) != len(images):
        raise InputError(f'{len(images) - len(truth)} submission image(s) are not in {args.ground_truth}: '
                         f'tune on out-of-fold predictions of images it annotates')
    trials = []
    ious = args.tune_iou or [args.iou_thr]
    grid = list(weight_grid(len(subs), args.tune_weights))
    print(f'tuning {len(grid)} weight vector(s) x {len(ious)} IoU threshold(s) on {len(truth)} images')
    for iou in ious:
        for ws in grid:
            used = [i for i, w in enumerate(ws) if w]
            fused = ensemble_submissions([subs[i] for i in used], [ws[i] for i in used], iou, args.skip_box_thr,
                                         sizes)
            trials.append((kaggle_map(fused, truth)['mAP'], ws, iou))
            print(f'  weights {" ".join(f"{w:g}" for w in ws)}  iou {iou:g}  mAP@0.4 {trials[-1][0]:.4f}', flush=True)
    best_map, best_ws, best_iou = max(trials, key=lambda t: t[0])
    equal = [t[0] for t in trials if len(set(t[1])) == 1 and t[2] == best_iou]
    print(f'best: --weights {" ".join(f"{w:g}" for w in best_ws)} --iou-thr {best_iou:g} -> OOF mAP@0.4 '
          f'{best_map:.4f}' + (f' (equal weights: {equal[0]:.4f})' if equal else ''))
    if args.save_tuned:
        with atomic_open(args.save_tuned, 'w') as f:
            json.dump({'weights': list(best_ws), 'iou_thr': best_iou, 'oof_map': best_map,
                       'equal_weights_oof_map': equal[0] if equal else None, 'submissions': args.submissions,
                       'ground_truth': args.ground_truth}, f, indent=2)
        print(f'tuned weights -> {args.save_tuned}')
    return best_ws, best_iou


def read_tuned(path: str, n: int):
    """(weights, iou_thr) of a ``--save-tuned`` file, for ``n`` submissions."""
    require_path(path, 'write it with tools/ensemble.py OOF_FILES... --tune --save-tuned FILE')
    with open(path) as f:
        try:
            tuned = json.load(f)
        except json.JSONDecodeError as exc:
            raise InputError(f'{path} is not JSON ({exc}): write it with --tune --save-tuned') from exc
    if not isinstance(tuned, dict) or 'weights' not in tuned or 'iou_thr' not in tuned:
        raise InputError(f'{path}: expected keys "weights" and "iou_thr" (tools/ensemble.py --save-tuned)')
    if len(tuned['weights']) != n:
        raise InputError(f'{path} has {len(tuned["weights"])} weights for {n} submissions: give the test '
                         f'submissions in the order of the tuned out-of-fold ones')
    return [float(w) for w in tuned['weights']], float(tuned['iou_thr'])


def main():
    args = parse_args()
    if args.abnormal_probs:
        check_filter_thresholds(args.filter_low, args.filter_high)
    subs = [read_model(s) for s in args.submissions]
    sizes = read_sizes(args.meta) if args.meta else None
    weights, iou_thr = args.weights, args.iou_thr
    if args.tuned and (args.tune or args.weights):
        raise InputError('--tuned gives the weights: leave out --tune and --weights')
    if args.save_tuned and not args.tune:
        raise InputError('--save-tuned writes what --tune chose: add --tune')
    if args.tune or args.tuned:
        weights, iou_thr = tune(args, subs, sizes) if args.tune else read_tuned(args.tuned, len(subs))
        if not args.out:
            return
        used = [i for i, w in enumerate(weights) if w]
        subs, weights = [subs[i] for i in used], [weights[i] for i in used]
    elif not args.out:
        raise InputError('--out is required (the fused submission); or search weights with --tune')
    ids = [set(s) for s in subs]
    if any(i != ids[0] for i in ids):
        print('WARNING: the submissions cover different images; an image missing from one counts as empty there',
              file=sys.stderr)
    fused = ensemble_submissions(subs, weights, iou_thr, args.skip_box_thr, sizes)
    if args.abnormal_probs:
        fused = filter_submission(fused, average_abnormal_probabilities(args.abnormal_probs), args.filter_low,
                                  args.filter_high, ' + '.join(args.abnormal_probs))
    n = write_submission(args.out, ((i, format_prediction_string(*d)) for i, d in fused.items()))
    print(f'fused {len(subs)} submissions into {n} rows -> {args.out}')


if __name__ == '__main__':
    run_tool(main)
