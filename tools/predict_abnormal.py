# Probability that each image is abnormal, from the image-level classifier: the CSV of the 2-class filter.
import argparse
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from tool_args import add_data_args, add_launcher_args, parse_launched_args

from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.engine.config_utils import check_data_root, config_from_args, use_val_split_for_test
from vinbig_mmdet.engine.distributed import adapt_to_cpu_distributed, process_group_teardown
from vinbig_mmdet.errors import InputError


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
    add_data_args(parser, fold_help="with --val: this fold (default: the config's)")
    parser.add_argument('--work-dir', help='the dir to save logs')
    add_launcher_args(parser)
    return parse_launched_args(parser)


def main():
    args = parse_args()
    cfg = config_from_args(args)
    if cfg.model.get('type') != 'AbnormalityClassifier':
        raise InputError(f'{args.config} is a {cfg.model.get("type")} config, not an image classifier '
                         f'(AbnormalityClassifier); detectors write submissions with tools/test.py')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist; train one with '
                                f'python tools/train.py {args.config}')
    if args.fold is not None and not args.val:
        raise InputError('--fold picks the validation fold: use it with --val')
    cfg.load_from = args.checkpoint
    if args.val:
        use_val_split_for_test(cfg)
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
    metric = next((e for e in evaluators if e.get('type') == 'AbnormalityMetric'), None)
    if metric is None:
        raise InputError(f'{args.config}: the test evaluator has no AbnormalityMetric, which writes --out')
    out = osp.abspath(args.out)
    metric.prob_file = out

    adapt_to_cpu_distributed(cfg)
    check_data_root(cfg, 'test_dataloader')
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
    with process_group_teardown():  # a clean exit of every rank, also after an error
        run_tool(main)
