# One self-contained HTML page about a training run (config, curves, AP table, PR curves, example images).
import argparse
import glob
import os
import os.path as osp
import sys
import tempfile

import numpy as np
from tool_args import add_data_args

from vinbig_mmdet.classes import DRAW_SCORE_THR
from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.errors import InputError


def parse_args():
    parser = argparse.ArgumentParser(
        description='Write an offline HTML report of a run: config summary, training curves, per-class AP, and '
        'with --submission (e.g. from tools/test.py --val --submission) PR curves, the confusion summary and '
        'the best and worst validation images with ground truth and predictions drawn.')
    parser.add_argument('run_dir', metavar='WORK_DIR', help='the training run (tools/train.py --work-dir)')
    parser.add_argument('--submission', help='predictions (image_id,PredictionString, original pixels)')
    parser.add_argument('--config', help='config (default: the one MMEngine saved in WORK_DIR)')
    add_data_args(parser, fold_help='the validation fold of the submission (tools/test.py --val --fold K); '
                  "default: the config's",
                  meta_help='the validation PNGs, as tools/train.py --meta-file')
    parser.add_argument('--test-meta-file', help='original sizes of the test PNGs, as tools/test.py --meta-file (for '
                        'a submission of test images)')
    parser.add_argument('--score-thr', type=float, default=DRAW_SCORE_THR,
                        help='score from which boxes are drawn (default %(default)s)')
    parser.add_argument('--out', required=True, help='output HTML file')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmengine.registry import init_default_scope
    config = args.config or next(iter(sorted(glob.glob(osp.join(args.run_dir, '*.py')))), None)
    if config is None:
        sys.exit(f'{args.run_dir}: no config saved there; pass --config')
    from vinbig_mmdet.engine.config_utils import config_from_args, set_meta_file
    cfg = config_from_args(args, config)
    if args.meta_file:
        set_meta_file(cfg, args.meta_file, ['val_dataloader'])
    if args.test_meta_file:
        set_meta_file(cfg, args.test_meta_file, ['test_dataloader'])
    init_default_scope('mmdet')
    from mmdet.registry import DATASETS

    from vinbig_mmdet.analysis.curves import plot_curves, read_scalars
    from vinbig_mmdet.analysis.report import build_report, config_summary
    from vinbig_mmdet.evaluation import read_submission
    from vinbig_mmdet.evaluation.submission import to_original_pixels

    predictions = read_submission(args.submission) if args.submission else None
    truth, paths = {}, {}
    if predictions is not None:
        for key in ('val_dataloader', 'test_dataloader'):
            if key == 'test_dataloader' and set(predictions) <= set(paths):
                break  # every predicted image is a validation image: the test set is not needed
            dataset = DATASETS.build(dict(cfg[key].dataset, pipeline=[]))
            for i in range(len(dataset)):
                info = dataset.get_data_info(i)
                paths.setdefault(info['img_id'], info['img_path'])
                if key == 'val_dataloader' and info['img_id'] in predictions:
                    boxes = np.array([d['bbox'] for d in info['instances']]).reshape(-1, 4)
                    truth[info['img_id']] = (to_original_pixels(boxes, (info['height'], info['width']),
                                                                info['original_size']),
                                             np.array([d['bbox_label'] for d in info['instances']], np.int64))
        outside = [k for k in predictions if k not in paths]
        if outside:  # a submission of another fold would give a report of nothing, not an error
            raise InputError(f'{args.submission}: {len(outside)} of {len(predictions)} images (e.g. {outside[0]}) are '
                             f'in neither validation fold {cfg.val_dataloader.dataset.get("fold")} nor the test set; '
                             f'pass the --fold (and --folds-file) the submission was made with')
    _, val = read_scalars(args.run_dir)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            curves = plot_curves(args.run_dir, osp.join(tmp, 'curves.png'))
        except FileNotFoundError:
            curves = None
        page = build_report(f'VinBigData run: {osp.basename(osp.normpath(args.run_dir))}', config_summary(cfg),
                            curves, val[-1] if val else None, predictions, truth, paths,
                            score_thr=args.score_thr)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    from vinbig_mmdet.io.atomic import atomic_open
    with atomic_open(args.out, 'w') as f:  # a stopped run leaves no half-written page under the final name
        f.write(page)
    print(f'wrote {args.out} ({len(page) / 1e6:.1f} MB, self-contained)')


if __name__ == '__main__':
    run_tool(main)
