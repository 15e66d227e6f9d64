# Fuse several Kaggle submissions (folds, models) with weighted boxes fusion.
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402
from vinbig_mmdet.datasets.annotations import read_sizes  # noqa: E402
from vinbig_mmdet.evaluation import format_prediction_string, read_submission, write_submission  # noqa: E402
from vinbig_mmdet.evaluation.ensemble import ensemble_submissions  # noqa: E402
from vinbig_mmdet.evaluation.submission import filter_submission, read_abnormal_probabilities  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Fuse submissions with WBF per image and class (normalised by each image\'s original size).')
    parser.add_argument('submissions', nargs='+', help='submission CSVs (image_id,PredictionString)')
    parser.add_argument('--out', required=True, help='fused submission CSV')
    parser.add_argument('--weights', nargs='+', type=float, help='one weight per submission (default: equal)')
    parser.add_argument('--iou-thr', type=float, default=0.4, help='WBF IoU threshold (default 0.4)')
    parser.add_argument('--skip-box-thr', type=float, default=0.0, help='ignore boxes scored below this')
    parser.add_argument('--meta', help='CSV image_id,width,height of the original images (optional: without it '
                        'boxes are normalised by their common extent, which fuses identically)')
    parser.add_argument('--abnormal-probs', help='CSV image_id,prob: apply the 2-class filter to the result')
    parser.add_argument('--filter-low', type=float, default=0.08)
    parser.add_argument('--filter-high', type=float, default=0.95)
    return parser.parse_args()


def main():
    args = parse_args()
    subs = [read_submission(p) for p in args.submissions]
    ids = [set(s) for s in subs]
    if any(i != ids[0] for i in ids):
        print('WARNING: the submissions cover different images; an image missing from one counts as empty there',
              file=sys.stderr)
    sizes = read_sizes(args.meta) if args.meta else None
    fused = ensemble_submissions(subs, args.weights, args.iou_thr, args.skip_box_thr, sizes)
    if args.abnormal_probs:
        fused = filter_submission(fused, read_abnormal_probabilities(args.abnormal_probs), args.filter_low,
                                  args.filter_high, args.abnormal_probs)
    n = write_submission(args.out, ((i, format_prediction_string(*d)) for i, d in fused.items()))
    print(f'fused {len(subs)} submissions into {n} rows -> {args.out}')


if __name__ == '__main__':
    run_tool(main)
