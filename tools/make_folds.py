# Make cross-validation folds: grouped by image, stratified on each image's findings ("No finding" spread evenly).
import argparse
import os.path as osp
import sys

import pandas as pd

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402
from vinbig_mmdet.classes import ALL_CLASSES  # noqa: E402
from vinbig_mmdet.datasets.annotations import read_annotations  # noqa: E402
from vinbig_mmdet.datasets.folds import fold_class_counts, make_folds  # noqa: E402
from vinbig_mmdet.datasets.vinbig import GET_DATA  # noqa: E402
from vinbig_mmdet.errors import require_path  # noqa: E402
from vinbig_mmdet.io.atomic import atomic_open  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Write folds.csv (image_id, fold) for a train.csv')
    parser.add_argument('--ann', required=True, help="Kaggle's train.csv")
    parser.add_argument('--n-splits', type=int, default=5, help='number of folds (default: 5)')
    parser.add_argument('--seed', type=int, default=42, help='random seed (default: 42)')
    parser.add_argument('--out', required=True, help='output CSV, e.g. data/vinbig/folds.csv (outside the data '
                        'folder if that is read-only, then train with --folds-file OUT)')
    return parser.parse_args()


def main():
    args = parse_args()
    require_path(args.ann, GET_DATA)
    ann = read_annotations(args.ann)
    folds = make_folds(ann, args.n_splits, args.seed)
    with atomic_open(args.out, 'w') as f:
        folds.to_csv(f, index=False)
    counts = fold_class_counts(ann, folds)
    counts.index = [f'{i:>2} {ALL_CLASSES[i]}' for i in counts.index]
    counts.loc['images'] = folds['fold'].value_counts().sort_index().to_numpy()
    with pd.option_context('display.width', 200):
        print(f'{len(folds)} images in {args.n_splits} folds -> {args.out}\nimages per class and fold:\n{counts}')


if __name__ == '__main__':
    run_tool(main)
