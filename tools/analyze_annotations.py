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
    parser.add_argument('ann', nargs='?', help="Kaggle's train.csv, the PhysioNet release's annotations_train.csv or "
                        "annotations_test.csv (class names; Kaggle's 14 classes, the others dropped and counted)")
    parser.add_argument('--data-path', help='a data folder instead: its training annotations (train.csv or '
                        'annotations/annotations_train.csv: per reader) and, in the PhysioNet release, the labelled '
                        'test set (annotations/annotations_test.csv: the consensus, no reader statistics), each '
                        'into its own subfolder of --out-dir')
    parser.add_argument('--out-dir', default='work_dirs/annotation_analysis', help='where the PNG plots go')
    parser.add_argument('--iou-thr', type=float, default=COMPETITION_IOU_THR,
                        help='IoU for reader agreement (default %(default)s)')
    return parser.parse_args()


def annotation_files(args) -> dict:
    """name -> annotation CSV: the one given, or those of the data folder's layout."""
    from vinbig_mmdet.datasets.layout import PHYSIONET_TEST, PHYSIONET_TRAIN
    from vinbig_mmdet.errors import InputError, require_path
    if bool(args.ann) == bool(args.data_path):
        raise InputError('give an annotation CSV or --data-path DIR (one of them)')
    if args.ann:
        require_path(args.ann, 'give the path of train.csv (or of annotations_train.csv of the PhysioNet release)')
        return {'': args.ann}
    found = {name: os.path.join(args.data_path, rel) for name, rel in
             (('train', 'train.csv'), ('train', PHYSIONET_TRAIN), ('test', PHYSIONET_TEST))
             if os.path.isfile(os.path.join(args.data_path, rel))}
    if 'train' not in found:
        raise InputError(f'{args.data_path}: no train.csv nor {PHYSIONET_TRAIN}; point --data-path at the folder of '
                         f'the download (data/README.md, docs/physionet.md)')
    return found


def main():
    args = parse_args()
    for name, path in annotation_files(args).items():
        if name:
            print(f'== {name}: {path}')
        analyse(path, os.path.join(args.out_dir, name) if name else args.out_dir, args.iou_thr)


def analyse(path: str, out_dir: str, iou_thr: float) -> None:
    log = RepairLog()
    ann = read_annotations(path, log=log)
    os.makedirs(out_dir, exist_ok=True)
    table = class_table(ann, iou_thr)
    counts = boxes_per_image(ann)
    with pd.option_context('display.width', 200, 'display.max_columns', 20, 'display.precision', 3):
        print(table.to_string(index=True))
    readers = (f'{ann["rad_id"].nunique()} readers' if has_readers(ann) else
               'no readers (consensus labels, or no rad_id): reader agreement is not computed')
    abnormal = counts[counts > 0]
    print(f'\n{ann["image_id"].nunique()} images, {int((counts == 0).sum())} "No finding"; finding boxes per '
          f'abnormal image: median {abnormal.median() if len(abnormal) else 0:.0f}, max {counts.max()}; {readers}')
    print(f'repairs: {log.summary()}')
    if has_readers(ann):
        print(format_reader_map(reader_vs_readers_map(ann, iou_thr), iou_thr))
    for plot in save_plots(ann, out_dir, iou_thr, table):
        print(f'wrote {plot}')


if __name__ == '__main__':
    run_tool(main)
