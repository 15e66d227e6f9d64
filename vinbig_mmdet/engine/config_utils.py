"""Config edits behind the command-line tools (kept here so tests can reach them)."""
import os
import os.path as osp
from typing import Iterator, Optional

from mmengine.config import Config, ConfigDict

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def iter_datasets(cfg: Config) -> Iterator[ConfigDict]:
    """Every dataset config of the loaders (through wrappers such as RepeatDataset)."""
    for key in LOADERS:
        dataset = cfg.get(key, {}).get('dataset') if cfg.get(key) else None
        while dataset is not None:
            yield dataset
            dataset = dataset.get('dataset')


def set_data_root(cfg: Config, data_root: str) -> None:
    """Point every dataset at ``data_root`` (its ann_file, data_prefix, folds_file stay relative to it)."""
    cfg.data_root = data_root
    for dataset in iter_datasets(cfg):
        if 'data_root' in dataset:
            dataset.data_root = data_root


def check_data_root(cfg: Config, loader: str = 'train_dataloader') -> Optional[str]:
    """A message that says how to get the data if the loader's data folder is missing, else None."""
    dataset = cfg.get(loader, {}).get('dataset', {})
    while dataset.get('dataset') is not None and 'data_root' not in dataset:
        dataset = dataset.dataset
    root = dataset.get('data_root')
    if not root or osp.isdir(root):
        return None
    return (f'Data folder {root!r} does not exist.\n'
            f'  Real data: download the VinBigData DICOMs (or the 1024 px PNG version) from Kaggle into {root} as '
            f'data/README.md describes, then run tools/make_folds.py.\n'
            f'  Or run the demo on generated data: make demo\n'
            f'  Or point the config elsewhere: --data-path DIR (or --cfg-options data_root=...)')


def apply_train_shortcuts(cfg: Config, args) -> None:
    """Flags of the original VinBig training script, mapped onto the MMEngine config."""
    if getattr(args, 'data_path', None):
        set_data_root(cfg, args.data_path)
    if getattr(args, 'save_path', None):
        cfg.work_dir = args.save_path
    optimizer = cfg.optim_wrapper.optimizer
    if getattr(args, 'lr', None) is not None:
        optimizer.lr = args.lr
    if getattr(args, 'momentum', None) is not None:
        optimizer.momentum = args.momentum
    if getattr(args, 'batch_size', None) is not None:
        cfg.train_dataloader.batch_size = args.batch_size
    if getattr(args, 'n_workers', None) is not None:
        for key in LOADERS:
            if cfg.get(key):
                cfg[key].num_workers = args.n_workers
                cfg[key].persistent_workers = args.n_workers > 0
    if getattr(args, 'log_step', None) is not None:
        cfg.default_hooks.logger.interval = args.log_step
    n_epochs = getattr(args, 'n_epochs', None)
    if n_epochs is not None:
        cfg.train_cfg.max_epochs = n_epochs
    step, gamma = getattr(args, 'step_size', None), getattr(args, 'gamma', None)
    for scheduler in cfg.get('param_scheduler') or []:
        if scheduler.get('type') != 'MultiStepLR':
            continue
        if n_epochs is not None:
            scheduler.end = n_epochs
        if step is not None:
            scheduler.milestones = list(range(step, cfg.train_cfg.max_epochs, step))
        if gamma is not None:
            scheduler.gamma = gamma
    device = getattr(args, 'device', None)
    if device:
        if device == 'cpu':
            os.environ['CUDA_VISIBLE_DEVICES'] = ''  # MMEngine places the model on CUDA whenever it is visible
        elif device.startswith('cuda:'):
            os.environ['CUDA_VISIBLE_DEVICES'] = device.split(':', 1)[1]
        elif device != 'cuda':
            raise ValueError(f"--device must be cpu, cuda or cuda:N, got {device!r}")


def use_val_split_for_test(cfg: Config) -> None:
    """Test on the labelled validation fold (prints the metric) instead of the unlabelled test images."""
    cfg.test_dataloader = cfg.val_dataloader
    cfg.test_evaluator = cfg.val_evaluator


def _vinbig_metrics(cfg: Config) -> list:
    """The VinBigMetric configs of the test evaluator (one is added if there is none)."""
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
    found = [e for e in evaluators if e.get('type') == 'VinBigMetric']
    if not found:
        evaluators.append(ConfigDict(type='VinBigMetric'))
        cfg.test_evaluator = evaluators
        found = evaluators[-1:]
    return found


def set_submission_file(cfg: Config, path: str) -> None:
    """Make the test evaluator's VinBigMetric also write a Kaggle submission to ``path``."""
    for metric in _vinbig_metrics(cfg):
        metric.submission_file = path


def set_eval_plot_dir(cfg: Config, path: str) -> None:
    """Make the test evaluator's VinBigMetric save PR curves and the confusion summary in ``path``."""
    for metric in _vinbig_metrics(cfg):
        metric.plot_dir = path


def set_two_class_filter(cfg: Config, probs: str, low: float = 0.08, high: float = 0.95) -> None:
    """Apply the image-level 2-class filter (probabilities CSV) in the test evaluator's VinBigMetric."""
    for metric in _vinbig_metrics(cfg):
        metric.two_class_filter = dict(probs=probs, low=low, high=high)


def enable_tta(cfg: Config, scales=None, iou_thr: float = 0.55) -> None:
    """Wrap the model in VinBigTTAModel and the test pipeline in TestTimeAug: horizontal flip (x scales),
    merged with WBF. Ground truth, if the pipeline loads it, is loaded after the flip, so it stays unflipped."""
    dataset = cfg.test_dataloader.dataset
    pipeline = list(dataset.pipeline)
    resize = next(t for t in pipeline if t['type'] == 'Resize')
    pack = dict(pipeline[-1])
    pack['meta_keys'] = tuple(dict.fromkeys(tuple(pack.get('meta_keys', ())) + ('flip', 'flip_direction')))
    stages = [[dict(resize, scale=tuple(s)) for s in (scales or [resize['scale']])],
              [dict(type='RandomFlip', prob=0.), dict(type='RandomFlip', prob=1.)]]
    if any(t['type'] == 'LoadAnnotations' for t in pipeline):
        stages.append([dict(type='LoadAnnotations', with_bbox=True)])
    stages.append([pack])
    dataset.pipeline = [pipeline[0], dict(type='TestTimeAug', transforms=stages)]
    max_per_img = cfg.model.get('test_cfg', {}).get('rcnn', {}).get('max_per_img', 100)
    cfg.model = ConfigDict(type='VinBigTTAModel', module=cfg.model,
                           tta_cfg=dict(iou_thr=iou_thr, skip_box_thr=0.0, max_per_img=max_per_img))


def adapt_to_cpu_distributed(cfg: Config) -> None:
    """Several processes without GPUs: the gloo backend, and DDP without device ids."""
    import torch
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)


def enable_tensorboard(cfg: Config) -> None:
    """Also log to TensorBoard (``<work_dir>/<timestamp>/vis_data/``; needs ``pip install tensorboard``)."""
    backends = list(cfg.visualizer.get('vis_backends', [dict(type='LocalVisBackend')]))
    if not any(b.get('type') == 'TensorboardVisBackend' for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    cfg.visualizer.vis_backends = backends
