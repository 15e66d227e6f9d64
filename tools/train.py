# Train a VinBigData detector; MMDetection's tools/train.py plus the original VinBig script's flags.
import argparse
import os
import os.path as osp
import sys
import time

from mmengine.config import DictAction  # imports no torch: --device must take effect before torch is imported

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install


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
                        help='override settings in the config, key=value (see MMDetection docs); fold=K and '
                        'data_root=DIR act like --fold and --data-path')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also log to TensorBoard (needs `pip install tensorboard`)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    data = parser.add_argument_group('data (nothing is written into the data folder)')
    data.add_argument('--data-path', help='data root (train.csv, train/, test/, folds.csv)')
    data.add_argument('--fold', type=int, help='validate on fold K, train on all the others (default: the '
                      "config's fold, 0)")
    data.add_argument('--folds-file', help='folds CSV from tools/make_folds.py (default: DATA/folds.csv); use it '
                      'when the data folder is read-only')
    data.add_argument('--meta-file', help='original image sizes of the training PNGs (image_id,width,height or '
                      'image_id,dim0,dim1); default: found by its usual name (data/README.md)')
    legacy = parser.add_argument_group('shortcuts from the original VinBig training script')
    legacy.add_argument('--save-path', help='same as --work-dir')
    legacy.add_argument('--lr', type=float, help='SGD learning rate')
    legacy.add_argument('--momentum', type=float, help='SGD momentum')
    legacy.add_argument('--n-epochs', type=int, help='number of epochs')
    legacy.add_argument('--batch-size', type=int, help='images per GPU (per process)')
    legacy.add_argument('--step-size', type=int, help='decay the LR every this many epochs')
    legacy.add_argument('--gamma', type=float, help='LR decay factor')
    legacy.add_argument('--n-workers', type=int, help='data loading workers per loader')
    legacy.add_argument('--device', help='cpu, cuda or cuda:N (one GPU, numbered as nvidia-smi shows them)')
    legacy.add_argument('--log-step', type=int, help='log every this many iterations')
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(args):
    from mmengine.dist import is_main_process
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from vinbig_mmdet.engine.config_utils import (adapt_to_cpu_distributed, apply_train_shortcuts,
                                                  check_data_root, check_device, enable_tensorboard, load_config,
                                                  set_meta_file)
    from vinbig_mmdet.engine.summary import train_summary

    device = check_device(args.device, args.launcher)
    cfg = load_config(args.config, args.cfg_options, args.data_path, args.fold, args.folds_file, args.launcher)
    if args.meta_file:
        set_meta_file(cfg, args.meta_file, ['train_dataloader', 'val_dataloader'])
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
    check_data_root(cfg)
    start = time.time()
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    runner.logger.info(f'device: {device}')
    runner.train()
    if is_main_process():
        print(train_summary(runner, time.time() - start), flush=True)


if __name__ == '__main__':
    ARGS = parse_args()
    if ARGS.device == 'cpu' or (ARGS.device or '').startswith('cuda:'):
        # CUDA reads CUDA_VISIBLE_DEVICES once, when it starts: set before anything imports torch (checked after)
        os.environ['CUDA_VISIBLE_DEVICES'] = '' if ARGS.device == 'cpu' else ARGS.device[len('cuda:'):]
    from vinbig_mmdet.cli import run_tool
    from vinbig_mmdet.engine.distributed import process_group_teardown
    with process_group_teardown():  # a clean exit of every rank, also after an error
        run_tool(lambda: main(ARGS))
