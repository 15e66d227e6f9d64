# Plot losses, learning rate and validation mAP (overall and per class) of a training run's work dir.
import argparse
import os.path as osp

from vinbig_mmdet.analysis.curves import plot_curves
from vinbig_mmdet.cli import run_tool


def main():
    parser = argparse.ArgumentParser(description='Training curves from <work_dir>/*/vis_data/scalars.json')
    parser.add_argument('work_dir')
    parser.add_argument('--out', help='output PNG (default: WORK_DIR/curves.png)')
    args = parser.parse_args()
    out = plot_curves(args.work_dir, args.out or osp.join(args.work_dir, 'curves.png'))
    print(f'wrote {out}')


if __name__ == '__main__':
    run_tool(main)
