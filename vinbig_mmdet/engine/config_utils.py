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


def set_submission_file(cfg: Config, path: str) -> None:
    """Make every VinBigMetric of the test evaluator also write a Kaggle submission to ``path``."""
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
    found = False
    for evaluator in evaluators:
        if evaluator.get('type') == 'VinBigMetric':
            evaluator.submission_file = path
            found = True
    if not found:
        evaluators.append(dict(type='VinBigMetric', submission_file=path))
        cfg.test_evaluator = evaluators
