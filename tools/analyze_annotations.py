# Class counts, boxes per image, box sizes and radiologist agreement of a train.csv, as a table and plots.
import argparse
import os

import pandas as pd

from vinbig_mmdet.analysis.agreement import format_reader_map, reader_vs_readers_map
from vinbig_mmdet.analysis.annotations import boxes_per_image, class_table, has_readers, save_plots
from vinbig_mmdet.classes import COMPETITION_IOU_THR
from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.datasets.annotations import RepairLog, read_annotations


def parse_args():
    parser = argparse.ArgumentParser(description='Analyse the annotations of a train.csv (plots + table)')
    parser.add_argument('ann', help="Kaggle's train.csv (or any CSV in its format)")
    parser.add_argument('--out-dir', default='work_dirs/annotation_analysis', help='where the PNG plots go')
    parser.add_argument('--iou-thr', type=float, default=COMPETITION_IOU_THR,
                        help='IoU for reader agreement (default %(default)s)')
    return parser.parse_args()


def main():
    args = parse_args()
    log = RepairLog()
    ann = read_annotations(args.ann, log=log)
    os.makedirs(args.out_dir, exist_ok=True)
    table = class_table(ann, args.iou_thr)
    counts = boxes_per_image(ann)
    with pd.option_context('display.width', 200, 'display.max_columns', 20, 'display.precision', 3):
        print(table.to_string(index=True))
    readers = (f'{ann["rad_id"].nunique()} readers' if has_readers(ann) else
               'no readers: the file has no rad_id (or only empty ones), so reader agreement is not computed')
    abnormal = counts[counts > 0]
    print(f'\n{ann["image_id"].nunique()} images, {int((counts == 0).sum())} "No finding"; finding boxes per '
          f'abnormal image: median {abnormal.median() if len(abnormal) else 0:.0f}, max {counts.max()}; {readers}')
    print(f'repairs: {log.summary()}')
    if has_readers(ann):
        print(format_reader_map(reader_vs_readers_map(ann, args.iou_thr), args.iou_thr))
    for path in save_plots(ann, args.out_dir, args.iou_thr, table):
        print(f'wrote {path}')


if __name__ == '__main__':
    run_tool(main)
