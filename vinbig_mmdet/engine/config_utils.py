"""Config edits behind the command-line tools (kept here so tests can reach them)."""
import os
import os.path as osp
import re
from typing import Iterator, List, Optional, Sequence, Union

from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from ..classes import FILTER_HIGH, FILTER_LOW
from ..errors import InputError

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


def _fold_datasets(cfg: Config) -> List[ConfigDict]:
    return [d for d in iter_datasets(cfg) if d.get('folds_file')]


def set_fold(cfg: Config, fold: int) -> None:
    """Validate on ``fold`` and train on every other fold: one value for every loader (and ``cfg.fold``)."""
    cfg.fold = fold
    for dataset in _fold_datasets(cfg):
        dataset.fold = fold


def set_folds_file(cfg: Config, path: str) -> None:
    """Read the folds of every loader from ``path`` (absolute: it may lie outside a read-only data folder); a
    folds file given by name must exist (never made in memory)."""
    for dataset in _fold_datasets(cfg):
        dataset.folds_file = osp.abspath(path)
        dataset.pop('missing_folds_file', None)


def set_meta_file(cfg: Config, path: str, loaders: Sequence[str]) -> None:
    """Take the original image sizes of ``loaders``' datasets from ``path`` (absolute)."""
    for key in loaders:
        if cfg.get(key) and cfg[key].get('dataset'):
            innermost_dataset(cfg[key]).meta_file = osp.abspath(path)


def set_ann_file(cfg: Config, path: str, loaders: Sequence[str] = ('train_dataloader', 'val_dataloader')) -> None:
    """``--ann-file``: read ``loaders``' labels (or image list) from ``path`` (absolute: it may lie outside the image
    folder, e.g. train.csv of another Kaggle input than the PNGs)."""
    for key in loaders:
        if cfg.get(key) and cfg[key].get('dataset'):
            innermost_dataset(cfg[key]).ann_file = osp.abspath(path)


def set_test_ann_file(cfg: Config, path: str) -> None:
    """``tools/test.py --test-ann-file``: the tested images' labels (then loaded and scored, at mAP@0.4 and 0.5) or
    image list (an ``image_id`` column only)."""
    from ..datasets.annotations import has_boxes
    from ..errors import require_path
    require_path(path, 'give the test images\' annotations (e.g. annotations/annotations_test.csv of the PhysioNet '
                       'release) or a CSV listing them (image_id)')
    set_ann_file(cfg, path, ['test_dataloader'])
    if has_boxes(path) and cfg.get('test_pipeline'):
        innermost_dataset(cfg.test_dataloader).pipeline = cfg.test_pipeline
        _labelled_test_metrics(cfg)


def _labelled_test_metrics(cfg: Config) -> None:
    """Score a labelled test set as Kaggle does (mAP@0.4, per class) and as papers on VinDr-CXR do (mAP@0.5)."""
    for metric in _vinbig_metrics(cfg):
        extra = list(metric.get('extra_iou_thrs') or [])
        metric.extra_iou_thrs = extra + [t for t in (0.5, ) if t not in extra and t != metric.get('iou_thr', 0.4)]


def make_missing_folds(cfg: Config) -> None:
    """A folds file the config names but the data folder lacks (a download as shipped, read-only) is made in memory
    by the dataset, as tools/make_folds.py would write it (logged); ``--folds-file`` must name an existing file."""
    for dataset in _fold_datasets(cfg):
        path = dataset.folds_file
        if not osp.isabs(path) and not osp.isfile(osp.join(dataset.get('data_root') or '', path)):
            dataset.missing_folds_file = 'make'


def apply_layout(cfg: Config) -> List[str]:
    """Point each loader whose annotation file is absent at the file its data folder's layout has instead
    (:func:`vinbig_mmdet.datasets.layout.find_annotations`): the PhysioNet release's annotations (its labelled test
    set then loads its ground truth and is scored), or a PNG download's test sizes file. A missing folds file is
    then made in memory. Returns what was changed, for the log."""
    from ..datasets.layout import find_annotations
    notes = []
    for key in LOADERS:
        if not (cfg.get(key) and cfg[key].get('dataset')):
            continue
        dataset = innermost_dataset(cfg[key])
        root, ann = dataset.get('data_root') or '', dataset.get('ann_file')
        if not ann or osp.isabs(ann) or osp.isfile(osp.join(root, ann)):
            continue
        found = find_annotations(root, ann)
        if not found:
            continue
        dataset.ann_file = found['ann_file']
        if found.get('meta_file') and not dataset.get('meta_file'):
            dataset.meta_file = found['meta_file']
        if key == 'test_dataloader' and found['labelled'] and cfg.get('test_pipeline'):
            dataset.pipeline = cfg.test_pipeline  # the labelled pipeline: ground truth loaded, then scored
            _labelled_test_metrics(cfg)
        notes.append(f'{key}: {found["layout"]}: {ann} is {found["ann_file"]}'
                     f'{" (labelled: scored)" if key == "test_dataloader" and found["labelled"] else ""}')
    return notes


def set_class_set(cfg: Config, name: str) -> None:
    """The class set (``kaggle14`` or ``vindr22``) of every loader's dataset (and ``cfg.class_set``)."""
    cfg.class_set = name
    for dataset in iter_datasets(cfg):
        if 'class_set' in dataset:
            dataset.class_set = name


def _num_classes(node) -> List[int]:
    """Every ``num_classes`` of a model config (a cascade has one per stage)."""
    if isinstance(node, dict):
        found = [node['num_classes']] if isinstance(node.get('num_classes'), int) else []
        return found + [n for v in node.values() for n in _num_classes(v)]
    if isinstance(node, (list, tuple)):
        return [n for v in node for n in _num_classes(v)]
    return []


def check_class_set(cfg: Config) -> None:
    """A detector trained on another class set than it has outputs for would learn some labels as others: refuse a
    class set whose size the model's num_classes does not match, naming both."""
    from ..classes import DEFAULT_CLASS_SET, class_set
    names = {d.get('class_set') for d in iter_datasets(cfg) if d.get('class_set')}
    if not names or names == {DEFAULT_CLASS_SET} or not cfg.get('model'):
        return
    if len(names) > 1:
        raise InputError(f'the loaders use different class sets {sorted(names)}; set class_set once (the config\'s '
                         f'class_set variable, or --cfg-options class_set=NAME)')
    name = names.pop()
    wrong = sorted({n for n in _num_classes(cfg.model) if n != len(class_set(name))})
    if wrong:
        raise InputError(f'class_set={name!r} has {len(class_set(name))} classes but the model has num_classes '
                         f'{wrong}; set the detector\'s num_classes to {len(class_set(name))} (as configs/'
                         f'vinbig_faster_rcnn_22cls.py does) or use the default class set')


def sync_config_variables(cfg: Config) -> List[str]:
    """Re-apply ``fold`` / ``data_root`` / ``class_set`` when a child config changed only the variable.

    MMEngine substitutes a base file's variables when it parses that file, so ``fold = 2`` in a child config
    leaves every loader on the base's fold. Where all loaders agree with each other but not with the variable, the
    variable wins. Returns the keys re-applied."""
    changed = []
    for key, setter, datasets, same in (
            ('fold', set_fold, _fold_datasets(cfg), lambda a, b: a == b),
            ('data_root', set_data_root, [d for d in iter_datasets(cfg) if 'data_root' in d],
             lambda a, b: osp.normpath(str(a)) == osp.normpath(str(b))),
            ('class_set', set_class_set, [d for d in iter_datasets(cfg) if 'class_set' in d], lambda a, b: a == b)):
        value = cfg.get(key)
        values = [d.get(key) for d in datasets]
        if value is not None and values and all(same(v, values[0]) for v in values) and not same(value, values[0]):
            setter(cfg, value)
            changed.append(key)
    return changed


def apply_data_options(cfg: Config, cfg_options: Optional[dict] = None, data_path: Optional[str] = None,
                       fold: Optional[int] = None, folds_file: Optional[str] = None,
                       ann_file: Optional[str] = None) -> None:
    """``--data-path`` / ``--fold`` / ``--folds-file``, and their ``--cfg-options data_root=... fold=...`` forms,
    applied to every loader (call after merging the cfg-options; the flag wins over the cfg-option)."""
    cfg_options = cfg_options or {}
    data_path = data_path or cfg_options.get('data_root')
    fold = fold if fold is not None else cfg_options.get('fold')
    if data_path:
        set_data_root(cfg, data_path)
    if fold is not None:
        set_fold(cfg, int(fold))
    if cfg_options.get('class_set'):
        set_class_set(cfg, cfg_options['class_set'])
    if ann_file:
        set_ann_file(cfg, ann_file)
    for note in apply_layout(cfg):
        print_log(f'data layout: {note}', logger='current')
    make_missing_folds(cfg)
    if folds_file:
        set_folds_file(cfg, folds_file)


def load_config(path: str, cfg_options: Optional[dict] = None, data_path: Optional[str] = None,
                fold: Optional[int] = None, folds_file: Optional[str] = None, launcher: str = 'none',
                ann_file: Optional[str] = None) -> Config:
    """The config as tools/train.py and tools/test.py see it: the file, its child-config variables re-applied,
    --cfg-options merged, then --data-path / --fold / --folds-file (or their cfg-option forms) in every loader."""
    cfg = Config.fromfile(path)
    cfg.launcher = launcher
    sync_config_variables(cfg)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    apply_data_options(cfg, cfg_options, data_path, fold, folds_file, ann_file)
    check_class_set(cfg)
    return cfg


def config_from_args(args, path: Optional[str] = None) -> Config:
    """:func:`load_config` from the flags the tools share (tools/tool_args.py: ``--cfg-options``, ``--data-path``,
    ``--fold``, ``--folds-file``, ``--launcher``), for ``path`` or else ``args.config``; where the tool has a
    ``--work-dir`` (``args.work_dir``: no other argument may be named so), the work_dir as MMDetection's tools choose
    it (:func:`set_work_dir`)."""
    path = path or args.config
    cfg = load_config(path, args.cfg_options, args.data_path, args.fold, args.folds_file,
                      getattr(args, 'launcher', 'none'), getattr(args, 'ann_file', None))
    if hasattr(args, 'work_dir'):
        set_work_dir(cfg, args.work_dir, path)
    return cfg


def set_work_dir(cfg: Config, work_dir: Optional[str], config_path: str) -> None:
    """MMDetection's order: ``--work-dir``, else the config's ``work_dir``, else ./work_dirs/<config name>."""
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(config_path))[0])


def check_data_root(cfg: Config, loader: str = 'train_dataloader') -> None:
    """Raise an InputError that says how to get the data if the loader's data folder is missing."""
    root = innermost_dataset(cfg[loader]).get('data_root') if cfg.get(loader, {}).get('dataset') else None
    if not root or osp.isdir(root):
        return
    raise InputError(
        f'data folder {root} does not exist.\n'
        f'  Real data: download the VinBigData DICOMs (or the 1024 px PNG version) from Kaggle into {root} as '
        f'data/README.md describes, then run tools/make_folds.py.\n'
        f'  Or run the demo on generated data: make demo\n'
        f'  Or point the tool elsewhere: --data-path DIR (same as --cfg-options data_root=DIR)')


def check_device(device: Optional[str], launcher: str = 'none') -> str:
    """Check, after torch is imported, that the process sees the device ``--device`` asked for (the tools set
    CUDA_VISIBLE_DEVICES before importing torch). Returns what it runs on, for the log."""
    import torch
    visible = os.environ.get('CUDA_VISIBLE_DEVICES')
    cuda = torch.cuda.is_available()
    if device is None:
        return f'cuda ({torch.cuda.device_count()} visible)' if cuda else 'cpu'
    if device != 'cpu' and not re.fullmatch(r'cuda(:\d+)?', device):
        raise InputError(f'--device must be cpu, cuda or cuda:N, got {device!r}')
    if device.startswith('cuda:') and launcher != 'none':
        raise InputError(f'--device {device} picks one GPU of a single-process run; for distributed runs choose '
                         f'the GPUs with CUDA_VISIBLE_DEVICES (e.g. CUDA_VISIBLE_DEVICES=2,3 bash '
                         f'tools/dist_train.sh CONFIG 2)')
    if device == 'cpu':
        if cuda:  # CUDA was initialised before CUDA_VISIBLE_DEVICES was set: a bug, not a user error
            raise RuntimeError('--device cpu: CUDA is still visible; CUDA_VISIBLE_DEVICES was set too late')
        return 'cpu'
    if not cuda:
        raise InputError(f'--device {device}: no CUDA device is visible (CUDA_VISIBLE_DEVICES={visible!r}, '
                         f'torch {torch.__version__}, CUDA build: {torch.version.cuda}); use --device cpu, or '
                         f'check the GPU with nvidia-smi')
    if device.startswith('cuda:') and torch.cuda.device_count() != 1:
        raise RuntimeError(f'--device {device}: {torch.cuda.device_count()} GPUs visible; '
                           f'CUDA_VISIBLE_DEVICES was set too late')
    return f'{device} ({torch.cuda.get_device_name(0)})'


def scale_milestones(milestones: Sequence[int], old_epochs: int, new_epochs: int) -> List[int]:
    """The LR steps of a schedule of ``old_epochs`` at the same fractions of ``new_epochs`` (24e [16, 22] -> 12e
    [8, 11]); a step that would fall at or after the end is dropped, since it would never take effect."""
    scaled = [max(1, round(m * new_epochs / old_epochs)) for m in milestones]
    return sorted({m for m in scaled if m < new_epochs})


def apply_train_shortcuts(cfg: Config, args) -> List[str]:
    """Flags of the original VinBig training script, mapped onto the MMEngine config (--data-path and --device:
    see :func:`apply_data_options`, :func:`check_device`). Returns what it changed beyond the flag's own key, for
    the run's log (the LR steps moved with --n-epochs)."""
    notes: List[str] = []
    if getattr(args, 'save_path', None) and getattr(args, 'work_dir', None) is None:  # --work-dir wins
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
    n_epochs, old_epochs = getattr(args, 'n_epochs', None), cfg.train_cfg.get('max_epochs')
    for option, value, least in (('--n-epochs', n_epochs, 1), ('--batch-size', getattr(args, 'batch_size', None), 1),
                                 ('--n-workers', getattr(args, 'n_workers', None), 0),
                                 ('--step-size', getattr(args, 'step_size', None), 1),
                                 ('--log-step', getattr(args, 'log_step', None), 1)):
        if value is not None and value < least:
            raise InputError(f'{option} {value}: must be at least {least}')
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
        elif n_epochs is not None and old_epochs and n_epochs != old_epochs:
            # moving only the end would leave the steps where they were: a 24e schedule cut to 12 never decays
            before = list(scheduler.milestones)
            scheduler.milestones = scale_milestones(before, old_epochs, n_epochs)
            notes.append(f'--n-epochs {n_epochs}: the config trains {old_epochs} epochs with the LR x{scheduler.gamma} '
                         f'at epochs {before}; scaled to epochs {scheduler.milestones} (--step-size N sets them '
                         f'every N epochs instead)')
        if gamma is not None:
            scheduler.gamma = gamma
    return notes


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


def set_two_class_filter(cfg: Config, probs: Union[str, List[str]], low: float = FILTER_LOW,
                         high: float = FILTER_HIGH) -> None:
    """Apply the image-level 2-class filter in the test evaluator's VinBigMetric (probabilities CSV; several are
    averaged)."""
    from ..evaluation.submission import check_filter_thresholds
    check_filter_thresholds(low, high)
    for metric in _vinbig_metrics(cfg):
        metric.two_class_filter = dict(probs=probs, low=low, high=high)


def check_tta(cfg: Config, config_path: str) -> None:
    """``--tta`` needs the config's ``tta_model`` and ``tta_pipeline`` (configs/_base_/vinbig_tta.py)."""
    missing = [k for k in ('tta_model', 'tta_pipeline') if not cfg.get(k)]
    if missing:
        raise InputError(f'{config_path} has no {" or ".join(missing)}, which --tta needs: inherit the project\'s '
                         f'TTA settings (add \'./_base_/vinbig_tta.py\' to its _base_, as configs/'
                         f'vinbig_faster_rcnn.py does) or test without --tta')


def _test_time_aug(pipeline: list) -> ConfigDict:
    found = [t for t in pipeline if t['type'] == 'TestTimeAug']
    if len(found) != 1:
        raise InputError(f'tta_pipeline must hold exactly one TestTimeAug transform, found {len(found)}')
    return found[0]


def set_tta_scales(pipeline: list, sizes: Sequence[int]) -> list:
    """``--tta-scales``: the pipeline with its Resize made a TestTimeAug stage of the config's scale plus these
    square ``sizes`` (each view is then also flipped)."""
    pipeline = [ConfigDict(t) for t in pipeline]
    tta = _test_time_aug(pipeline)
    stages = [list(stage) for stage in tta.transforms]
    outer = [t for t in pipeline if t['type'] == 'Resize']
    if outer:  # one Resize before the TestTimeAug: it becomes the first stage
        pipeline.remove(outer[0])
        stages.insert(0, [outer[0]])
    stage = next((s for s in stages if any(t['type'] == 'Resize' for t in s)), None)
    if stage is None:
        raise InputError('--tta-scales: the config\'s tta_pipeline has no Resize to add sizes to')
    stage += [dict(stage[0], scale=(size, size)) for size in sizes]
    tta.transforms = stages
    return pipeline


def match_annotations(pipeline: list, labelled: bool) -> list:
    """The TTA pipeline loading ground truth exactly when the data it replaces does: ``LoadAnnotations`` after
    the flip on labelled data (ground truth stays unflipped), none on unlabelled data (VinBigMetric would else
    score the test images against empty ground truth)."""
    def keep(t):
        return t['type'] != 'LoadAnnotations'

    pipeline = [ConfigDict(t) for t in pipeline if keep(t)]
    tta = _test_time_aug(pipeline)
    stages = [[t for t in stage if keep(t)] for stage in tta.transforms]
    stages = [stage for stage in stages if stage]
    if labelled:
        stages.insert(len(stages) - 1, [dict(type='LoadAnnotations', with_bbox=True)])  # before PackDetInputs
    tta.transforms = stages
    return pipeline


def innermost_dataset(loader_cfg: ConfigDict) -> ConfigDict:
    """The dataset that holds the pipeline (inside wrappers such as RepeatDataset)."""
    dataset = loader_cfg.dataset
    while 'dataset' in dataset:
        dataset = dataset.dataset
    return dataset


# --vis-backend: MMEngine's visualizer backend and the package it needs (an extra: pip install 'vinbig-mmdet[...]').
VIS_BACKENDS = {'local': ('LocalVisBackend', None), 'tensorboard': ('TensorboardVisBackend', 'tensorboard'),
                'wandb': ('WandbVisBackend', 'wandb')}


def add_vis_backend(cfg: Config, name: str) -> None:
    """Also log scalars (and drawn images) to ``name`` (``local``, ``tensorboard`` or ``wandb``), as MMDetection's
    configs do with ``visualizer.vis_backends``; an InputError with the install command if its package is missing."""
    import importlib.util
    if name not in VIS_BACKENDS:
        raise InputError(f'--vis-backend must be one of {sorted(VIS_BACKENDS)}, got {name!r}')
    backend, package = VIS_BACKENDS[name]
    if package and importlib.util.find_spec(package) is None:
        raise InputError(f'--vis-backend {name}: the {package} package is not installed; install it with '
                         f"pip install 'vinbig-mmdet[{name}]' (or pip install {package})")
    backends = list(cfg.visualizer.get('vis_backends', [dict(type='LocalVisBackend')]))
    if not any(b.get('type') == backend for b in backends):
        backends.append(dict(type=backend))
    cfg.visualizer.vis_backends = backends

