# Test a VinBigData detector: the Kaggle metric on a labelled fold, and/or a Kaggle submission CSV.
import argparse
import os.path as osp

from tool_args import (  # imports no torch: --device must act first
    add_data_args,
    add_device_arg,
    add_launcher_args,
    parse_launched_args,
    run_launched,
)


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
    parser.add_argument('--tta', action='store_true',
                        help='test-time augmentation as the config\'s tta_model and tta_pipeline say '
                        '(configs/_base_/vinbig_tta.py: horizontal flip, merged by WBF)')
    parser.add_argument('--tta-scales', nargs='+', type=int,
                        help='with --tta: also these square sizes (added to the tta_pipeline\'s Resize), e.g. 896 1152')
    parser.add_argument('--abnormal-probs', nargs='+', metavar='CSV',
                        help='CSV image_id,prob of an image classifier: apply the 2-class filter; several CSVs of '
                        'the same images (e.g. one per classifier fold) are averaged')
    parser.add_argument('--filter-low', type=float, help='2-class filter: below, "No finding" only '
                        '(default: FILTER_LOW of vinbig_mmdet/classes.py)')
    parser.add_argument('--filter-high', type=float, help='2-class filter: above, detections only '
                        '(default: FILTER_HIGH of vinbig_mmdet/classes.py)')
    parser.add_argument('--eval-plots', help='save PR curves and the confusion summary (labelled data) here')
    parser.add_argument('--allow-partial', action='store_true',
                        help='load a checkpoint that does not fully fit the model (missing, extra or reshaped '
                        'weights; deliberate cases only: what does not fit keeps its initial values)')
    add_data_args(parser, fold_help="with --val: the fold to score (default: the config's, 0)",
                  meta_help='the tested PNGs')
    parser.add_argument('--test-ann-file', help='the tested images\' labels (scored: e.g. the PhysioNet '
                        'release\'s annotations_test.csv) or list (image_id column); default: found in the data '
                        'root (sample_submission.csv, annotations/annotations_test.csv, test.csv), else every image '
                        'of test/')
    add_device_arg(parser)
    parser.add_argument('--work-dir', help='the dir to save logs and results')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    parser.add_argument('--show', action='store_true', help='show prediction results (score >= 0.3) in a window')
    parser.add_argument('--show-dir', help='draw predictions (score >= 0.3) over each image into this folder '
                        '(<image_id>.png; a relative folder lies under WORK_DIR/TIMESTAMP/, as in MMDetection)')
    parser.add_argument('--wait-time', type=float, default=2, help='the interval of show (s)')
    add_launcher_args(parser)
    return parse_launched_args(parser)


def trigger_visualization_hook(cfg, args):
    """MMDetection's: the config's visualization hook (RadiographVisualizationHook, which reads DICOMs) draws."""
    from vinbig_mmdet.errors import InputError
    if 'visualization' not in cfg.get('default_hooks', {}):
        raise InputError(f'{args.config}: --show / --show-dir need default_hooks.visualization, e.g. '
                         f'visualization=dict(type=\'RadiographVisualizationHook\')')
    visualization_hook = cfg.default_hooks['visualization']
    visualization_hook['draw'] = True
    if args.show:
        visualization_hook['show'] = True
        visualization_hook['wait_time'] = args.wait_time
    if args.show_dir:
        visualization_hook['test_out_dir'] = args.show_dir


def main(args):
    from mmengine.config import ConfigDict
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from vinbig_mmdet.engine.config_utils import (
        check_data_root,
        check_device,
        check_tta,
        config_from_args,
        innermost_dataset,
        match_annotations,
        set_eval_plot_dir,
        set_meta_file,
        set_submission_file,
        set_test_ann_file,
        set_tta_scales,
        set_two_class_filter,
        use_val_split_for_test,
    )
    from vinbig_mmdet.engine.distributed import adapt_to_cpu_distributed
    from vinbig_mmdet.errors import InputError

    device = check_device(args.device, args.launcher)
    cfg = config_from_args(args)
    cfg.load_from = args.checkpoint
    cfg.allow_partial_checkpoint = args.allow_partial
    if args.val:
        use_val_split_for_test(cfg)
    if args.test_ann_file:
        set_test_ann_file(cfg, args.test_ann_file)
    if args.meta_file:
        set_meta_file(cfg, args.meta_file, ['test_dataloader'])
    if args.submission:
        set_submission_file(cfg, osp.abspath(args.submission))
    if args.eval_plots:
        set_eval_plot_dir(cfg, osp.abspath(args.eval_plots))
    if args.abnormal_probs:
        from vinbig_mmdet.classes import FILTER_HIGH, FILTER_LOW
        low, high = (FILTER_LOW if args.filter_low is None else args.filter_low,
                     FILTER_HIGH if args.filter_high is None else args.filter_high)
        probs = [osp.abspath(p) for p in args.abnormal_probs]
        set_two_class_filter(cfg, probs[0] if len(probs) == 1 else probs, low, high)
    if args.tta:  # MMDetection's tools/test.py, with the config's own tta_model and tta_pipeline
        check_tta(cfg, args.config)
        if args.tta_scales:
            cfg.tta_pipeline = set_tta_scales(cfg.tta_pipeline, args.tta_scales)
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
        test_data_cfg = innermost_dataset(cfg.test_dataloader)
        labelled = any(t['type'] == 'LoadAnnotations' for t in test_data_cfg.pipeline)
        test_data_cfg.pipeline = match_annotations(cfg.tta_pipeline, labelled)
    elif args.tta_scales:
        raise InputError('--tta-scales adds sizes to test-time augmentation: add --tta')
    if args.show or args.show_dir:
        trigger_visualization_hook(cfg, args)
    adapt_to_cpu_distributed(cfg)
    check_data_root(cfg, 'test_dataloader')
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.logger.info(f'device: {device}')
    if args.out is not None:
        from mmdet.evaluation import DumpDetResults
        runner.test_evaluator.metrics.append(DumpDetResults(out_file_path=args.out))
    runner.test()


if __name__ == '__main__':
    run_launched(main, parse_args())
