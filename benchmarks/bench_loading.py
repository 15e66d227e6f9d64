"""Data loading for training: samples/s from DICOMs on the fly against the PNG cache (tools/prepare_data.py),
with the demo config's pipeline and workers, next to the demo's training step time.

    python benchmarks/bench_loading.py [--data data/demo] [--batches 10]
"""
import argparse
import os
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def loader_rate(cfg, img_dir, batches):
    from mmengine.runner import Runner
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.dataset = dict(loader_cfg.dataset, data_prefix=dict(img=img_dir), filter_cfg=dict(filter_empty_gt=False))
    loader_cfg.persistent_workers = False
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    it = iter(loader)
    next(it)  # workers started, first batch ready
    start = time.perf_counter()
    n = 0
    for _ in range(batches):
        n += len(next(it)['inputs'])
    return n / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--data', default=os.path.join(ROOT, 'data', 'demo'))
    parser.add_argument('--batches', type=int, default=10)
    args = parser.parse_args()
    from bench_train_step import mmdet_step, time_steps
    from mmdet.utils import register_all_modules
    from mmengine.config import Config

    import vinbig_mmdet  # noqa: F401
    from vinbig_mmdet.engine.config_utils import set_data_root
    from vinbig_mmdet.io.convert import convert_folder
    register_all_modules()
    cfg = Config.fromfile(os.path.join(ROOT, 'configs', 'vinbig_faster_rcnn_demo.py'))
    set_data_root(cfg, args.data)
    with tempfile.TemporaryDirectory() as tmp:
        png = os.path.join(tmp, 'png')
        convert_folder(os.path.join(args.data, 'train'), png, size=1024, progress=False)
        dicom_rate = loader_rate(cfg, os.path.join(args.data, 'train'), args.batches)
        png_rate = loader_rate(cfg, png, args.batches)
    size, batch = cfg.img_scale[0], cfg.train_dataloader.batch_size
    step = time_steps(mmdet_step(size, batch), 2)  # the main config's step (the demo samples fewer RoIs)
    need = batch / step
    print(f'demo pipeline ({size} px, batch {batch}, {cfg.train_dataloader.num_workers} worker(s)), '
          f'{torch.get_num_threads()} threads')
    print(f'  DICOM on the fly (1.1-1.8k px, 20% JPEG 2000): {dicom_rate:6.1f} samples/s')
    print(f'  PNG cache (1024 px):                          {png_rate:6.1f} samples/s   ({png_rate / dicom_rate:.1f}x)')
    print(f'  training consumes:                            {need:6.1f} samples/s   (step {step:.2f} s): '
          f'loading is {dicom_rate / need:.0f}x (DICOM) / {png_rate / need:.0f}x (PNG) faster than training')


if __name__ == '__main__':
    main()
