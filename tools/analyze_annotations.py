# Class counts, boxes per image, box sizes and radiologist agreement of a train.csv, as a table and plots.
import argparse
import os
import os.path as osp
import sys

import pandas as pd

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402
from vinbig_mmdet.analysis.agreement import format_reader_map, reader_vs_readers_map  # noqa: E402
from vinbig_mmdet.analysis.annotations import boxes_per_image, class_table, save_plots  # noqa: E402
from vinbig_mmdet.datasets.annotations import read_annotations  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description='Analyse the annotations of a train.csv (plots + table)')
    parser.add_argument('ann', help="Kaggle's train.csv (or any CSV in its format)")
    parser.add_argument('--out-dir', default='work_dirs/annotation_analysis', help='where the PNG plots go')
    parser.add_argument('--iou-thr', type=float, default=0.4, help='IoU for reader agreement (default 0.4)')
    return parser.parse_args()


def main():
    args = parse_args()
    ann = read_annotations(args.ann)
    os.makedirs(args.out_dir, exist_ok=True)
    table = class_table(ann, args.iou_thr)
    counts = boxes_per_image(ann)
    with pd.option_context('display.width', 200, 'display.max_columns', 20, 'display.precision', 3):
        print(table.to_string(index=True))
    print(f'\n{ann["image_id"].nunique()} images, {int((counts == 0).sum())} "No finding"; finding boxes per '
          f'abnormal image: median {counts[counts > 0].median():.0f}, max {counts.max()}; '
          f'{ann["rad_id"].nunique()} readers')
    print(format_reader_map(reader_vs_readers_map(ann, args.iou_thr), args.iou_thr))
    for path in save_plots(ann, args.out_dir, args.iou_thr):
        print(f'wrote {path}')


if __name__ == '__main__':
    run_tool(main)
