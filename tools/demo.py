# The whole pipeline on generated data, on CPU: data -> folds -> train -> validate -> submission -> score.
import argparse
import glob
import os.path as osp
import subprocess
import sys
import time

import pandas as pd

from vinbig_mmdet.analysis.agreement import reader_vs_readers_map
from vinbig_mmdet.analysis.curves import read_scalars
from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.datasets.annotations import read_annotations
from vinbig_mmdet.datasets.folds import make_folds
from vinbig_mmdet.demo.synth import make_demo_dataset
from vinbig_mmdet.evaluation import format_ap_table, kaggle_map, no_finding_baseline, read_submission
from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG = 'configs/vinbig_faster_rcnn_demo.py'


def parse_args():
    parser = argparse.ArgumentParser(description='Run the VinBig pipeline end to end on the demo data (CPU).')
    parser.add_argument('--data', default='data/demo', help='demo data folder (generated if absent)')
    parser.add_argument('--work-dir', default='work_dirs/vinbig_faster_rcnn_demo')
    parser.add_argument('--seed', type=int, default=0, help='seed of the generated data')
    parser.add_argument('--train-args', nargs=argparse.REMAINDER, default=[],
                        help='extra arguments for tools/train.py (e.g. --n-epochs 4)')
    return parser.parse_args()


def step(title):
    print(f'\n=== {title}', flush=True)


def run(*args):
    print('$ ' + ' '.join(args), flush=True)
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True)


def main():
    args = parse_args()
    start = time.time()
    data = osp.join(ROOT, args.data) if not osp.isabs(args.data) else args.data
    if not osp.isfile(osp.join(data, 'train.csv')):
        step(f'1/4 generating demo data in {args.data}')
        summary = make_demo_dataset(data, seed=args.seed)
        print(f'{summary["n_train"]} train + {summary["n_test"]} test DICOMs ({summary["n_jpeg2000"]} JPEG 2000, '
              f'{summary["n_monochrome1"]} MONOCHROME1)')
    else:
        step(f'1/4 demo data already in {args.data}')
    folds_csv = osp.join(data, 'folds.csv')
    if not osp.isfile(folds_csv):
        make_folds(read_annotations(osp.join(data, 'train.csv')), n_splits=5, seed=42).to_csv(folds_csv,
                                                                                                index=False)

    step('2/4 training Faster R-CNN R50-FPN on CPU (validation on fold 0 at the end)')
    train_start = time.time()
    run('tools/train.py', CONFIG, '--data-path', data + '/', '--work-dir', args.work_dir, *args.train_args)
    train_minutes = (time.time() - train_start) / 60

    step('3/4 writing a Kaggle submission for the test images')
    work = osp.join(ROOT, args.work_dir)
    ckpt = open(osp.join(work, 'last_checkpoint')).read().strip()
    submission = osp.join(work, 'submission.csv')
    run('tools/test.py', CONFIG, ckpt, '--data-path', data + '/', '--submission', submission,
        '--work-dir', args.work_dir)

    step('4/4 scoring')
    truth = ground_truth_from_csv(osp.join(data, 'test_annotations.csv'), fusion='none')
    test_result = kaggle_map(read_submission(submission), truth)
    print(format_ap_table(test_result))
    _, val_maps = read_scalars(work)
    folds = pd.read_csv(folds_csv, dtype={'image_id': str})
    val_ids = set(folds.loc[folds['fold'] == 0, 'image_id'])
    val_truth = {k: v for k, v in ground_truth_from_csv(osp.join(data, 'train.csv')).items() if k in val_ids}
    readers = reader_vs_readers_map(read_annotations(osp.join(data, 'train.csv')))
    best = sorted(glob.glob(osp.join(work, 'best_vinbig_mAP_*.pth')))
    print(f'\nDemo finished in {(time.time() - start) / 60:.1f} min (training {train_minutes:.1f} min).')
    if val_maps:
        print(f'  validation fold 0 mAP@0.4: {val_maps[-1]["vinbig/mAP"]:.4f}   '
              f'(chance, all "No finding": {no_finding_baseline(val_truth):.4f})')
    print(f'  test set mAP@0.4:          {test_result["mAP"]:.4f}   (chance, all "No finding": '
          f'{no_finding_baseline(truth):.4f})')
    print(f'  a reader vs the others:    {readers["mAP"]:.4f}   (train.csv: one reader per image against the other '
          f'two, unfused; real data about 0.23)')
    print(f'  checkpoint: {best[-1] if best else ckpt}')
    runs = sorted(d for d in glob.glob(osp.join(work, '2*')) if osp.isdir(d))
    print(f'  logs:       {runs[-1] if runs else work} (text log, vis_data/scalars.json)')
    print(f'  submission: {submission}')


if __name__ == '__main__':
    run_tool(main)
