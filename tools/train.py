# Train a VinBigData detector; MMDetection's tools/train.py plus the original VinBig script's flags.
import argparse
import time

from tool_args import (  # imports no torch: --device must act first
    add_data_args,
    add_device_arg,
    add_launcher_args,
    parse_launched_args,
    run_launched,
)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a VinBigData detector')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument('--amp', action='store_true', default=False,
                        help='enable automatic-mixed-precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the LR by (total batch size) / auto_scale_lr.base_batch_size')
    parser.add_argument('--resume', nargs='?', type=str, const='auto',
                        help='resume from this checkpoint, or without a path from the latest one in the work dir')
    add_launcher_args(parser)
    parser.add_argument('--vis-backend', choices=['local', 'tensorboard', 'wandb'], default='local',
                        help='also log to TensorBoard or Weights & Biases (visualizer.vis_backends; needs '
                        "pip install 'vinbig-mmdet[tensorboard]' or '[wandb]'); local files are always written")
    parser.add_argument('--tensorboard', action='store_true', help='same as --vis-backend tensorboard')
    data = parser.add_argument_group('data and config (nothing is written into the data folder)')
    add_data_args(data, fold_help="validate on fold K, train on all the others (default: the config's fold, 0)",
                  meta_help='the training PNGs')
    legacy = parser.add_argument_group('shortcuts from the original VinBig training script')
    legacy.add_argument('--save-path', help='same as --work-dir')
    legacy.add_argument('--lr', type=float, help='SGD learning rate')
    legacy.add_argument('--momentum', type=float, help='SGD momentum')
    legacy.add_argument('--n-epochs', type=int, help='number of epochs')
    legacy.add_argument('--batch-size', type=int, help='images per GPU (per process)')
    legacy.add_argument('--step-size', type=int, help='decay the LR every this many epochs')
    legacy.add_argument('--gamma', type=float, help='LR decay factor')
    legacy.add_argument('--n-workers', type=int, help='data loading workers per loader')
    add_device_arg(legacy)
    legacy.add_argument('--log-step', type=int, help='log every this many iterations')
    return parse_launched_args(parser)


def main(args):
    from mmengine.dist import is_main_process
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from vinbig_mmdet.engine.config_utils import (
        add_vis_backend,
        apply_train_shortcuts,
        check_data_root,
        check_device,
        config_from_args,
        set_meta_file,
    )
    from vinbig_mmdet.engine.distributed import adapt_to_cpu_distributed
    from vinbig_mmdet.engine.summary import train_summary

    device = check_device(args.device, args.launcher)
    cfg = config_from_args(args)
    if args.meta_file:
        set_meta_file(cfg, args.meta_file, ['train_dataloader', 'val_dataloader'])
    notes = apply_train_shortcuts(cfg, args)
    add_vis_backend(cfg, 'tensorboard' if args.tensorboard else args.vis_backend)

    if args.amp:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    if args.auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume

    adapt_to_cpu_distributed(cfg)
    check_data_root(cfg)
    start = time.time()
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.logger.info(f'device: {device}')
    for note in notes:
        runner.logger.info(note)
    runner.train()
    if is_main_process():
        print(train_summary(runner, time.time() - start), flush=True)


if __name__ == '__main__':
    run_launched(main, parse_args())
