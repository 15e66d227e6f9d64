"""The recipe file: which detectors (configs, TTA), folds, classifier, ensemble and filter settings.

A Python config read with ``mmengine.Config`` (as the model configs are): comments sit next to the settings, a
recipe can inherit another (``_base_``) and override a few keys, and nothing new to install or learn. See
configs/pipeline/recipe_vinbig.py for every key."""
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional

from ..classes import FILTER_HIGH, FILTER_LOW
from ..errors import InputError

# Measured training / inference throughputs (img/s, one GPU) used by the plan's GPU-hour estimate when a model
# of the recipe gives none: the H200 figures of docs/gpu/h200_2026-11-26.md (fp32, batch 2, 1024 px).
DEFAULT_TRAIN_IMG_S = 14.67  # faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py, fp32, batch 2
DEFAULT_TEST_IMG_S = 17.70   # tools/test.py, batch 1
DEFAULT_TTA_IMG_S = 12.27    # tools/test.py --tta (flip, WBF)


@dataclass
class ModelSpec:
    """One detector (or the classifier) of the recipe."""
    name: str
    config: str
    tta: bool = False
    tta_scales: List[int] = field(default_factory=list)
    train_args: List[str] = field(default_factory=list)
    test_args: List[str] = field(default_factory=list)
    # Throughputs for the estimate; ``measured`` False marks a figure borrowed from another model.
    train_img_s: float = DEFAULT_TRAIN_IMG_S
    test_img_s: float = DEFAULT_TEST_IMG_S
    tta_img_s: float = DEFAULT_TTA_IMG_S
    measured: bool = False
    epochs: Optional[int] = None  # for the estimate only; default: the config's train_cfg.max_epochs


@dataclass
class Recipe:
    path: str
    data_root: str
    work_dir: str
    models: List[ModelSpec]
    n_folds: int = 5
    folds_seed: int = 42
    classifier: Optional[ModelSpec] = None
    tune_weights: List[float] = field(default_factory=lambda: [0, 1, 2, 3])
    tune_iou: List[float] = field(default_factory=lambda: [0.4])
    skip_box_thr: float = 0.0
    filter_low: float = FILTER_LOW
    filter_high: float = FILTER_HIGH
    gpus_per_train: int = 1  # > 1: each training through tools/dist_train.sh with this many GPUs
    demo_data: Optional[dict] = None  # tools/make_demo_data.py settings: generate data_root first
    estimate: dict = field(default_factory=dict)  # n_train_images, n_test_images, device (for the plan)

    @property
    def train_csv(self) -> str:
        return osp.join(self.data_root, 'train.csv')


def _model(entry, where: str) -> ModelSpec:
    if not isinstance(entry, dict) or 'config' not in entry:
        raise InputError(f'{where}: each model is dict(name=..., config=...), got {entry!r}')
    known = set(ModelSpec.__dataclass_fields__)
    unknown = sorted(set(entry) - known)
    if unknown:
        raise InputError(f'{where}: unknown key(s) {unknown} of model {entry.get("name")!r}; known: {sorted(known)}')
    spec = ModelSpec(**{k: (list(v) if isinstance(v, (list, tuple)) else v) for k, v in entry.items()})
    if not osp.isfile(spec.config):
        raise InputError(f'{where}: config {spec.config} of model {spec.name!r} does not exist (paths are relative '
                         f'to the repository root, where tools/pipeline.py runs)')
    if not spec.name.replace('_', '').replace('-', '').isalnum():
        raise InputError(f'{where}: model name {spec.name!r}: use letters, digits, - and _ (it names files)')
    return spec


def load_recipe(path: str, overrides: Optional[dict] = None) -> Recipe:
    """Read and check a recipe; ``overrides`` (``--cfg-options``) are merged first, e.g. ``work_dir=...``."""
    from mmengine.config import Config
    if not osp.isfile(path):
        raise InputError(f'recipe {path} does not exist: see configs/pipeline/ for examples')
    cfg = Config.fromfile(path)
    if overrides:
        cfg.merge_from_dict(overrides)
    for key in ('data_root', 'work_dir', 'models'):
        if key not in cfg:
            raise InputError(f'{path}: the recipe needs {key!r} (see configs/pipeline/recipe_vinbig.py)')
    models = [_model(m, path) for m in cfg.models]
    names = [m.name for m in models]
    if not models or len(set(names)) != len(names):
        raise InputError(f'{path}: models needs one or more entries with distinct names, got {names}')
    folds = cfg.get('folds', {})
    ens, filt = cfg.get('ensemble', {}), cfg.get('filter', {})
    classifier = cfg.get('classifier')
    recipe = Recipe(
        path=path, data_root=cfg.data_root.rstrip('/'), work_dir=cfg.work_dir.rstrip('/'), models=models,
        n_folds=int(folds.get('n_splits', 5)), folds_seed=int(folds.get('seed', 42)),
        classifier=_model(dict(classifier, name=classifier.get('name', 'classifier')), path) if classifier else None,
        tune_weights=list(ens.get('tune_weights', [0, 1, 2, 3])), tune_iou=list(ens.get('tune_iou', [0.4])),
        skip_box_thr=float(ens.get('skip_box_thr', 0.0)),
        filter_low=float(filt.get('low', FILTER_LOW)), filter_high=float(filt.get('high', FILTER_HIGH)),
        gpus_per_train=int(cfg.get('gpus_per_train', 1)),
        demo_data=dict(cfg.demo_data) if cfg.get('demo_data') else None,
        estimate=dict(cfg.get('estimate', {})))
    if recipe.n_folds < 2:
        raise InputError(f'{path}: folds.n_splits must be 2 or more (out-of-fold predictions need a held-out fold)')
    if not 0 <= recipe.filter_low <= recipe.filter_high <= 1:
        raise InputError(f'{path}: filter needs 0 <= low <= high <= 1, got {recipe.filter_low}, {recipe.filter_high}')
    return recipe


def check_data(recipe: Recipe) -> None:
    """Before running (not for a plan, which may be printed anywhere): the data are there or generated."""
    if recipe.demo_data is None and not osp.isfile(recipe.train_csv):
        raise InputError(f'{recipe.path}: {recipe.train_csv} does not exist: set data_root to the prepared data '
                         f'(data/README.md), or demo_data=dict(...) to generate demo data there')
