# Score Kaggle submissions (or out-of-fold predictions) against ground truth in train.csv format.
import argparse
import json
import sys

import numpy as np

from vinbig_mmdet.classes import ALL_CLASSES, COMPETITION_IOU_THR
from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.datasets.folds import read_folds
from vinbig_mmdet.errors import InputError, require_path
from vinbig_mmdet.evaluation import format_ap_table, kaggle_map, read_submission
from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv
from vinbig_mmdet.evaluation.kaggle_map import check_iou_thr, confusion_summary
from vinbig_mmdet.evaluation.plots import save_evaluation
from vinbig_mmdet.structures.boxes import empty_detections


def parse_args():
    parser = argparse.ArgumentParser(
        description='Score SUBMISSION.csv (image_id,PredictionString) against GROUND_TRUTH.csv (train.csv '
        'format, original pixels) with VinBigData mAP@0.4 (VOC 2010 all-point, "No finding" = class 14). Only the '
        'images the submission covers are scored (or those of --folds-file/--fold). Several out-of-fold files '
        '(tools/test.py --val --fold K --submission oof_K.csv) give each fold\'s mAP and the combined CV mAP.')
    parser.add_argument('submissions', nargs='+', metavar='SUBMISSION',
                        help='one submission, or the out-of-fold files of several folds')
    parser.add_argument('ground_truth')
    parser.add_argument('--folds-file', help='score the images of this folds CSV (tools/make_folds.py) ...')
    parser.add_argument('--fold', type=int, nargs='+', help='... only these folds of it')
    parser.add_argument('--fusion', choices=['wbf', 'nms', 'none'], default='wbf',
                        help="how several readers' boxes become ground truth "
                        f'(default: wbf at IoU {COMPETITION_IOU_THR})')
    parser.add_argument('--iou-thr', type=float, default=COMPETITION_IOU_THR,
                        help='IoU a detection must exceed (default %(default)s)')
    parser.add_argument('--json', help='also write {"mAP": ..., "per_class": {class: AP}, ...} here')
    parser.add_argument('--plots', help='save PR curves (PNG, JSON) and the confusion summary (CSV) here')
    return parser.parse_args()


def read_predictions(paths):
    """Each file's predictions and their union; an image in two files is an error (OOF files are disjoint)."""
    per_file, merged, source = {}, {}, {}
    for path in paths:
        require_path(path, 'write it with tools/test.py --submission (--val --fold K for out-of-fold files)')
        per_file[path] = read_submission(path)
        twice = [i for i in per_file[path] if i in merged]
        if twice:
            raise InputError(f'{path} and {source[twice[0]]} both have image {twice[0]} ({len(twice)} shared '
                             f'images): out-of-fold files must cover disjoint images')
        merged.update(per_file[path])
        source.update(dict.fromkeys(per_file[path], path))
    return per_file, merged


def selected_images(args, preds):
    """The images to score: those of --folds-file (and --fold), else those the submissions cover."""
    if args.fold and not args.folds_file:
        raise InputError('--fold needs --folds-file (the folds CSV the models were trained with)')
    if not args.folds_file:
        return set(preds), 'the images the submission(s) cover'
    fold_of = read_folds(args.folds_file, args.ground_truth)
    folds = set(args.fold) if args.fold else set(fold_of.values())
    missing = folds - set(fold_of.values())
    if missing:
        raise InputError(f'{args.folds_file}: no fold {sorted(missing)} (folds: {sorted(set(fold_of.values()))})')
    return {i for i, f in fold_of.items() if f in folds}, f'fold(s) {sorted(folds)} of {args.folds_file}'


def score(preds, truth, iou_thr):
    """kaggle_map over the images of ``truth``, an image without a row scoring as no prediction. The submission's
    own row order is kept: kaggle_map breaks score ties in the predictions' order, as the competition did."""
    scored = {i: preds[i] for i in preds if i in truth}
    scored.update((i, empty_detections()) for i in truth if i not in preds)
    return kaggle_map(scored, truth, iou_thr)


def cv_table(results):
    """Per-class AP, one column per file plus the combined one."""
    names = list(results)
    combined = results[names[-1]]
    header = f'{"id":>3}  {"class":<20} ' + ' '.join(f'{n[-12:]:>12}' for n in names)
    lines = [header]
    for cid in combined['AP']:
        if not combined['n_gt'][cid]:
            continue
        cells = [f'{r["AP"][cid]:12.4f}' if r['n_gt'][cid] else f'{"-":>12}' for r in results.values()]
        lines.append(f'{cid:>3}  {ALL_CLASSES[cid]:<20} ' + ' '.join(cells))
    lines.append(f'     {"mAP@0.4":<20} ' + ' '.join(f'{r["mAP"]:12.4f}' for r in results.values()))
    return '\n'.join(lines)


def main():
    args = parse_args()
    check_iou_thr(args.iou_thr)
    per_file, preds = read_predictions(args.submissions)
    images, what = selected_images(args, preds)
    truth = ground_truth_from_csv(args.ground_truth, args.fusion, image_ids=images)
    if not truth:
        raise InputError(f'none of the images of {what} is in {args.ground_truth}: score against the ground truth '
                         f'of the same images')
    uncovered = [i for i in truth if i not in preds]
    if uncovered:
        print(f'WARNING: {len(uncovered)} of the {len(truth)} images of {what} have no row in the submission(s) '
              f'and score as having no predictions, e.g. {uncovered[:3]}', file=sys.stderr)
    outside = [i for i in preds if i not in truth]
    if outside:
        print(f'WARNING: {len(outside)} submission row(s) are not among the {len(truth)} scored images (outside '
              f'the folds chosen, or not in {args.ground_truth}) and are ignored, e.g. {outside[:3]}',
              file=sys.stderr)
    result = score(preds, truth, args.iou_thr)
    print(f'scored {len(truth)} images: {what}')
    if len(per_file) > 1:
        results = {p: score(per_file[p], {i: truth[i] for i in per_file[p] if i in truth}, args.iou_thr)
                   for p in per_file}
        results['combined CV'] = result
        print(cv_table(results))
        print(f'mean of the per-file mAPs: {np.mean([results[p]["mAP"] for p in per_file]):.4f}')
        print(f'combined CV mAP@{args.iou_thr:g}: {result["mAP"]:.4f}')
    else:
        print(format_ap_table(result))
        print(f'mAP@{args.iou_thr:g}: {result["mAP"]:.4f}')
    if args.plots:
        for path in save_evaluation(result, confusion_summary(preds, truth, args.iou_thr), args.plots):
            print(f'wrote {path}')
    if args.json:
        per_class = {ALL_CLASSES[c]: ap for c, ap in result['AP'].items() if result['n_gt'][c]}
        from vinbig_mmdet.io.atomic import atomic_open
        with atomic_open(args.json, 'w') as f:
            json.dump({'mAP': result['mAP'], 'per_class': per_class, 'images': len(truth),
                       'files': args.submissions}, f, indent=2)


if __name__ == '__main__':
    run_tool(main)
