# Test a VinBigData detector: the Kaggle metric on a labelled fold, and/or a Kaggle submission CSV.
import argparse
import os
import os.path as osp
import sys

from mmengine.config import DictAction  # imports no torch: --device must take effect before torch is imported

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install


def parse_args():
    parser = argparse.ArgumentParser(
        description='Test a VinBigData detector: write a Kaggle submission (--submission) for the test images, '
        'or score a labelled fold (--val) with the competition metric (mAP@0.4); --val --fold K --submission '
        'oof_K.csv writes the out-of-fold predictions of fold K.')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--submission', help='write image_id,PredictionString here (original DICOM pixels)')
    parser.add_argument('--val', action='store_true',
                        help='run on the validation fold of the config (labelled: prints mAP@0.4)')
    parser.add_argument('--tta', action='store_true', help='test-time augmentation: horizontal flip, merged by WBF')
    parser.add_argument('--tta-scales', nargs='+', type=int, help='also these square sizes under --tta, e.g. 896 1152')
    parser.add_argument('--abnormal-probs', help='CSV image_id,prob of an image classifier: apply the 2-class filter')
    parser.add_argument('--filter-low', type=float, default=0.08, help='2-class filter: below, "No finding" only')
    parser.add_argument('--filter-high', type=float, default=0.95, help='2-class filter: above, detections only')
    parser.add_argument('--eval-plots', help='save PR curves and the confusion summary (labelled data) here')
    parser.add_argument('--data-path', help='data root (overrides the config; same as --cfg-options data_root=DIR)')
    parser.add_argument('--fold', type=int, help='with --val: the fold to score (default: the config\'s, 0)')
    parser.add_argument('--folds-file', help='folds CSV from tools/make_folds.py (default: DATA/folds.csv)')
    parser.add_argument('--meta-file', help='original sizes of the tested PNGs (image_id,width,height or '
                        'image_id,dim0,dim1); default: found by its usual name (data/README.md)')
    parser.add_argument('--device', help='cpu, cuda or cuda:N (one GPU, numbered as nvidia-smi shows them)')
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='draw predictions (score >= 0.3) over each image into this folder')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value; fold=K and data_root=DIR act like '
                        '--fold and --data-path')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(args):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from vinbig_mmdet.engine.config_utils import (adapt_to_cpu_distributed, check_data_root, check_device,
                                                  enable_tta, load_config, set_eval_plot_dir, set_meta_file,
                                                  set_submission_file, set_two_class_filter,
                                                  use_val_split_for_test)

    device = check_device(args.device, args.launcher)
    cfg = load_config(args.config, args.cfg_options, args.data_path, args.fold, args.folds_file, args.launcher)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.val:
        use_val_split_for_test(cfg)
    if args.meta_file:
        set_meta_file(cfg, args.meta_file, ['test_dataloader'])
    if args.submission:
        set_submission_file(cfg, osp.abspath(args.submission))
    if args.eval_plots:
        set_eval_plot_dir(cfg, osp.abspath(args.eval_plots))
    if args.abnormal_probs:
        set_two_class_filter(cfg, osp.abspath(args.abnormal_probs), args.filter_low, args.filter_high)
    if args.tta:
        scales = [(s, s) for s in args.tta_scales] if args.tta_scales else None
        if scales:
            resize = next(t for t in cfg.test_dataloader.dataset.pipeline if t['type'] == 'Resize')
            scales = [tuple(resize['scale'])] + scales
        enable_tta(cfg, scales)
    if args.show_dir:  # MMDetection's DetVisualizationHook cannot read DICOMs
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='RadiographVisualizationHook', out_dir=osp.abspath(args.show_dir))]

    adapt_to_cpu_distributed(cfg)
    check_data_root(cfg, 'test_dataloader')
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.logger.info(f'device: {device}')
    if args.out is not None:
        from mmdet.evaluation import DumpDetResults
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    ARGS = parse_args()
    if ARGS.device == 'cpu' or (ARGS.device or '').startswith('cuda:'):
        # CUDA reads CUDA_VISIBLE_DEVICES once, when it starts: set before anything imports torch (checked after)
        os.environ['CUDA_VISIBLE_DEVICES'] = '' if ARGS.device == 'cpu' else ARGS.device[len('cuda:'):]
    from vinbig_mmdet.cli import run_tool
    from vinbig_mmdet.engine.distributed import process_group_teardown
    with process_group_teardown():  # a clean exit of every rank, also after an error
        run_tool(lambda: main(ARGS))
