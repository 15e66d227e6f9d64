# Save training images as the model sees them (after the pipeline), with readers' and fused boxes drawn.
import argparse
import os
import os.path as osp

import cv2
import numpy as np
from mmengine.registry import init_default_scope
from tool_args import add_data_args

from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.engine.config_utils import config_from_args


def parse_args():
    parser = argparse.ArgumentParser(
        description='Draw the training pipeline\'s output: each radiologist\'s boxes dashed in their own pattern, '
        'the fused training targets solid on top.')
    parser.add_argument('config')
    parser.add_argument('--out-dir', default='work_dirs/browse', help='output folder')
    parser.add_argument('--n', type=int, default=20, help='number of images (default 20)')
    parser.add_argument('--all', action='store_true', help='include "No finding" images (default: findings only)')
    add_data_args(parser, fold_help='browse the training images of tools/train.py --fold K')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = config_from_args(args)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    from mmdet.registry import DATASETS

    from vinbig_mmdet.progress import progress_bar
    from vinbig_mmdet.visualization import draw_sample
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    indices = [i for i in range(len(dataset)) if args.all or dataset.get_data_info(i)['instances']][:args.n]
    os.makedirs(args.out_dir, exist_ok=True)
    for i in progress_bar(indices, desc='browse', unit='img'):
        info = dataset.get_data_info(i)
        sample = dataset[i]
        img = sample['inputs'].permute(1, 2, 0).numpy().astype(np.uint8)
        meta = sample['data_samples'].metainfo
        gt = sample['data_samples'].gt_instances
        fused = [dict(bbox=b.tolist(), label=int(lab)) for b, lab in zip(gt.bboxes.numpy(), gt.labels.numpy())]
        cv2.imwrite(osp.join(args.out_dir, f'{info["img_id"]}.png'),
                    draw_sample(img, meta, fused, info['reader_instances']))
    print(f'{len(indices)} image(s) -> {args.out_dir}')


if __name__ == '__main__':
    run_tool(main)
