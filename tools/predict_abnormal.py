# Probability that each image is abnormal, from the image-level classifier: the CSV of the 2-class filter.
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction
from mmengine.dist import is_main_process
from mmengine.registry import RUNNERS
from mmengine.runner import Runner

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402
from vinbig_mmdet.engine.config_utils import (adapt_to_cpu_distributed, check_data_root, set_data_root,  # noqa: E402
                                              use_val_split_for_test)
from vinbig_mmdet.errors import InputError  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Write image_id,prob (probability of a finding) for the test images, or with --val for the '
        'validation fold (also prints the AUC), with an image classifier config such as '
        'configs/abnormality-classifier_r50_12e_vinbig.py. The CSV goes to tools/test.py or tools/ensemble.py '
        '--abnormal-probs.')
    parser.add_argument('config', help='classifier config file')
    parser.add_argument('checkpoint', help='classifier checkpoint (tools/train.py CONFIG)')
    parser.add_argument('--out', required=True, help='CSV to write: image_id,prob')
    parser.add_argument('--val', action='store_true', help='the labelled validation fold instead of the test images')
    parser.add_argument('--fold', type=int, help='with --val: this fold (default: the config\'s)')
    parser.add_argument('--data-path', help='data root (overrides the config)')
    parser.add_argument('--work-dir', help='the dir to save logs')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def set_fold(cfg: Config, fold: int) -> None:
    """Validate on ``fold`` and train on the others (both loaders, so they cannot overlap)."""
    for key in ('train_dataloader', 'val_dataloader'):
        cfg[key].dataset.fold = fold


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if cfg.model.get('type') != 'AbnormalityClassifier':
        raise InputError(f'{args.config} is a {cfg.model.get("type")} config, not an image classifier '
                         f'(AbnormalityClassifier); detectors write submissions with tools/test.py')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist; train one with '
                                f'python tools/train.py {args.config}')
    if args.fold is not None and not args.val:
        raise InputError('--fold picks the validation fold: use it with --val')
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_path:
        set_data_root(cfg, args.data_path)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.fold is not None:
        set_fold(cfg, args.fold)
    if args.val:
        use_val_split_for_test(cfg)
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
    metric = next((e for e in evaluators if e.get('type') == 'AbnormalityMetric'), None)
    if metric is None:
        raise InputError(f'{args.config}: the test evaluator has no AbnormalityMetric, which writes --out')
    out = osp.abspath(args.out)
    metric.prob_file = out

    adapt_to_cpu_distributed(cfg)
    problem = check_data_root(cfg, 'test_dataloader')
    if problem:
        sys.exit(problem)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    metrics = runner.test()
    if not is_main_process():
        return
    if 'abnormal/AUC' in (metrics or {}):
        where = f'fold {cfg.test_dataloader.dataset.get("fold")}'
        print(f'AUC {metrics["abnormal/AUC"]:.4f}, accuracy at 0.5 {metrics["abnormal/accuracy"]:.4f} on {where}; '
              f'probabilities -> {out}')
    else:
        print(f'probabilities -> {out}')


if __name__ == '__main__':
    run_tool(main)
