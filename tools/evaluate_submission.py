# Score a Kaggle submission against ground truth in train.csv format, with the competition metric.
import argparse
import json
import os.path as osp
import sys

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402
from vinbig_mmdet.classes import ALL_CLASSES  # noqa: E402
from vinbig_mmdet.evaluation import format_ap_table, kaggle_map, read_submission  # noqa: E402
from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv  # noqa: E402
from vinbig_mmdet.evaluation.kaggle_map import confusion_summary  # noqa: E402
from vinbig_mmdet.evaluation.plots import save_evaluation  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Score SUBMISSION.csv (image_id,PredictionString) against GROUND_TRUTH.csv (train.csv '
        'format, original pixels) with VinBigData mAP@0.4 (VOC 2010 all-point, "No finding" = class 14).')
    parser.add_argument('submission')
    parser.add_argument('ground_truth')
    parser.add_argument('--fusion', choices=['wbf', 'nms', 'none'], default='wbf',
                        help="how several readers' boxes become ground truth (default: wbf at IoU 0.4)")
    parser.add_argument('--iou-thr', type=float, default=0.4, help='IoU a detection must exceed (default 0.4)')
    parser.add_argument('--json', help='also write {"mAP": ..., "per_class": {class: AP}} here')
    parser.add_argument('--plots', help='save PR curves (PNG, JSON) and the confusion summary (CSV) here')
    return parser.parse_args()


def main():
    args = parse_args()
    truth = ground_truth_from_csv(args.ground_truth, args.fusion)
    preds = read_submission(args.submission)
    missing = [i for i in truth if i not in preds]
    extra = [i for i in preds if i not in truth]
    if missing:
        print(f'WARNING: {len(missing)} ground-truth image(s) have no row in {args.submission} and score as '
              f'having no predictions, e.g. {missing[:3]}', file=sys.stderr)
        empty = (np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))
        preds.update({i: empty for i in missing})
    if extra:
        print(f'WARNING: {len(extra)} submission row(s) are not in the ground truth and are ignored, '
              f'e.g. {extra[:3]}', file=sys.stderr)
    result = kaggle_map(preds, truth, args.iou_thr)
    print(format_ap_table(result))
    print(f'mAP@{args.iou_thr:g}: {result["mAP"]:.4f}')
    if args.plots:
        for path in save_evaluation(result, confusion_summary(preds, truth, args.iou_thr), args.plots):
            print(f'wrote {path}')
    if args.json:
        per_class = {ALL_CLASSES[c]: ap for c, ap in result['AP'].items() if result['n_gt'][c]}
        with open(args.json, 'w') as f:
            json.dump({'mAP': result['mAP'], 'per_class': per_class}, f, indent=2)


if __name__ == '__main__':
    run_tool(main)
