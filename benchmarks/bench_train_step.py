"""One training step of the main config's detector against torchvision's fasterrcnn_resnet50_fpn (which the
original VinBig project trained), on identical batches, on the CPU, in one process.

Both are set up as when fine-tuning from ImageNet (the reference recipe): stem and layer1 frozen, BatchNorm
statistics frozen; 15 classes; the same image size, batch, boxes and threads; SGD.

Measured twice: with denormal floats flushed to zero (torch.set_flush_denormal(True)), the fair comparison, and as
PyTorch starts (denormals kept). torchvision's randomly initialised heads produce denormal gradients, and the CPU
handles denormals 10-20x slower: left alone this makes torchvision look 5x slower than it is.

    python benchmarks/bench_train_step.py [--size 512] [--batch 2] [--iters 3]
"""
import argparse
import os
import statistics
import time

import torch

CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'configs',
                      'vinbig_faster_rcnn.py')


def batch(size, n, seed=0):
    g = torch.Generator().manual_seed(seed)
    images = torch.randint(0, 256, (n, 3, size, size), generator=g, dtype=torch.uint8)
    boxes = [torch.tensor([[0.1, 0.1, 0.4, 0.5], [0.5, 0.4, 0.9, 0.8]]) * size for _ in range(n)]
    labels = [torch.tensor([3, 8]) for _ in range(n)]
    return images, boxes, labels


def mmdet_step(size, n):
    from mmdet.registry import MODELS
    from mmdet.structures import DetDataSample
    from mmdet.utils import register_all_modules
    from mmengine.config import Config
    from mmengine.structures import InstanceData

    import vinbig_mmdet  # noqa: F401
    register_all_modules()
    cfg = Config.fromfile(CONFIG)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-4, momentum=0.9, weight_decay=1e-4)
    images, boxes, labels = batch(size, n)
    samples = []
    for b, lab in zip(boxes, labels):
        s = DetDataSample(metainfo=dict(img_shape=(size, size), ori_shape=(size, size), scale_factor=(1., 1.)))
        s.gt_instances = InstanceData(bboxes=b, labels=lab)
        samples.append(s)

    def step():
        data = model.data_preprocessor(dict(inputs=list(images), data_samples=samples), True)
        loss, _ = model.parse_losses(model(**data, mode='loss'))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torchvision_step(size, n):
    from torchvision.models import resnet50
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.ops.misc import FrozenBatchNorm2d
    backbone = _resnet_fpn_extractor(resnet50(norm_layer=FrozenBatchNorm2d), trainable_layers=3)
    model = FasterRCNN(backbone, num_classes=15, min_size=size, max_size=size)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.SGD(params, lr=1e-4, momentum=0.9, weight_decay=1e-4)
    images, boxes, labels = batch(size, n)
    inputs = [im.float() / 255 for im in images]
    targets = [dict(boxes=b, labels=lab) for b, lab in zip(boxes, labels)]

    def step():
        loss = sum(model(inputs, targets).values())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def time_steps(step, iters):
    step()  # warm-up (allocations, oneDNN primitives)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--size', type=int, default=512)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--iters', type=int, default=3)
    args = parser.parse_args()
    print(f'training step, batch {args.batch} x {args.size}x{args.size}, {torch.get_num_threads()} threads, '
          f'median of {args.iters}')
    for flush in (True, False):
        torch.set_flush_denormal(flush)
        torch.manual_seed(0)
        results = {}
        for name, build in (('mmdet (configs/vinbig_faster_rcnn.py)', mmdet_step),
                            ('torchvision fasterrcnn_resnet50_fpn', torchvision_step)):
            results[name] = time_steps(build(args.size, args.batch), args.iters)
        print(f'denormals {"flushed to zero" if flush else "kept (PyTorch default)"}:')
        for name, t in results.items():
            print(f'  {name:<40} {t:6.2f} s/iter   {args.batch / t:5.2f} img/s')
        a, b = results.values()
        print(f'  ratio mmdet / torchvision: {a / b:.2f} (bar: <= 1.00)')


if __name__ == '__main__':
    main()
