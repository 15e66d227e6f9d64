# Generate a synthetic data set in VinBigData's exact formats (DICOMs, train.csv, sample_submission.csv).
import argparse
import time

from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.demo.physionet import make_physionet_demo
from vinbig_mmdet.demo.synth import DEFAULT_N_TEST, DEFAULT_N_TRAIN, DEFAULT_SEED, make_demo_dataset


def parse_args():
    parser = argparse.ArgumentParser(
        description='Write a demo data set in VinBigData format: train/ and test/ DICOMs (1-2k px, MONOCHROME1 '
        'and 2, 12-bit, windowed, some JPEG 2000), train.csv with 3 of 17 readers per image who disagree as much as '
        'the real ones and classes as frequent as in the real train.csv, sample_submission.csv, and '
        'test_annotations.csv (the test truth, which Kaggle keeps secret).')
    parser.add_argument('--out', default='data/demo', help='output folder (default: data/demo)')
    parser.add_argument('--n-train', type=int, default=DEFAULT_N_TRAIN, help='training images (default: %(default)s)')
    parser.add_argument('--n-test', type=int, default=DEFAULT_N_TEST, help='test images (default: %(default)s)')
    parser.add_argument('--seed', type=int, default=DEFAULT_SEED,
                        help='random seed; the same seed writes the same data (default: %(default)s)')
    parser.add_argument('--normal-frac', type=float, default=0.7, help='share of "No finding" images')
    parser.add_argument('--height-range', nargs=2, type=int, metavar=('MIN', 'MAX'),
                        help='image heights in pixels (default: about 1-2k, as real radiographs; small ones for '
                        'quick CPU runs)')
    parser.add_argument('--layout', choices=['kaggle', 'physionet'], default='kaggle',
                        help='kaggle (default): the competition\'s files; physionet: VinDr-CXR as released on '
                        'PhysioNet '
                        '(annotations/annotations_{train,test}.csv with class names, image_labels_*.csv, a labelled '
                        'test set; docs/physionet.md)')
    parser.add_argument('--workers', type=int, default=None, help='processes (default: all cores)')
    return parser.parse_args()


def main():
    args = parse_args()
    start = time.time()
    make = make_physionet_demo if args.layout == 'physionet' else make_demo_dataset
    summary = make(args.out, args.n_train, args.n_test, args.seed, workers=args.workers,
                   normal_frac=args.normal_frac,
                   **({'height_range': tuple(args.height_range)} if args.height_range else {}))
    print(f'Wrote {summary["n_train"]} train + {summary["n_test"]} test DICOMs to {summary["out"]} in '
          f'{time.time() - start:.0f} s: {summary["n_abnormal"]} with findings, {summary["n_jpeg2000"]} JPEG 2000, '
          f'{summary["n_monochrome1"]} MONOCHROME1.')


if __name__ == '__main__':
    run_tool(main)
