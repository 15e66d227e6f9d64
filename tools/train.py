# Train a VinBigData detector; MMDetection's tools/train.py plus the original VinBig script's flags.
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402
from vinbig_mmdet.engine.distributed import process_group_teardown  # noqa: E402
from vinbig_mmdet.engine.config_utils import (adapt_to_cpu_distributed, apply_train_shortcuts,  # noqa: E402
                                              check_data_root, enable_tensorboard)


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
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value (see MMDetection docs)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also log to TensorBoard (needs `pip install tensorboard`)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    legacy = parser.add_argument_group('shortcuts from the original VinBig training script')
    legacy.add_argument('--data-path', help='data root (train.csv, train/, folds.csv, test/)')
    legacy.add_argument('--save-path', help='same as --work-dir')
    legacy.add_argument('--lr', type=float, help='SGD learning rate')
    legacy.add_argument('--momentum', type=float, help='SGD momentum')
    legacy.add_argument('--n-epochs', type=int, help='number of epochs')
    legacy.add_argument('--batch-size', type=int, help='images per GPU (per process)')
    legacy.add_argument('--step-size', type=int, help='decay the LR every this many epochs')
    legacy.add_argument('--gamma', type=float, help='LR decay factor')
    legacy.add_argument('--n-workers', type=int, help='data loading workers per loader')
    legacy.add_argument('--device', help='cpu, cuda or cuda:N')
    legacy.add_argument('--log-step', type=int, help='log every this many iterations')
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    apply_train_shortcuts(cfg, args)
    if args.tensorboard:
        enable_tensorboard(cfg)

    # work_dir priority: CLI > config > ./work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])

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
    problem = check_data_root(cfg)
    if problem:
        sys.exit(problem)

    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.train()


if __name__ == '__main__':
    with process_group_teardown():  # a clean exit of every rank, also after an error
        run_tool(main)
