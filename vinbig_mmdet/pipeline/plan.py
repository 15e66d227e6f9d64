"""The dry run: every step with its state and an estimate of its GPU hours from measured throughputs.

The figures are the recipe's (``train_img_s``, ``test_img_s``, ``tta_img_s`` per model; defaults in
:mod:`.recipe`: the H200 measurements of docs/gpu/h200_2026-11-26.md). A figure not measured for that model
(``measured=False``) is marked ``*``. Validation during training, data loading beyond what was measured and the
CPU steps (fusion, scoring: seconds to minutes) are not counted."""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from .graph import Step
from .recipe import ModelSpec, Recipe
from .state import status

N_TRAIN_IMAGES = 15000  # Kaggle's train.csv (when the data are not here to count)
N_TEST_IMAGES = 3000


def _count_images(recipe: Recipe) -> Tuple[int, int, str]:
    import pandas as pd
    n_train = int(recipe.estimate.get('n_train_images', N_TRAIN_IMAGES))
    n_test = int(recipe.estimate.get('n_test_images', N_TEST_IMAGES))
    source = 'the recipe\'s estimate (data not here)' if 'n_train_images' in recipe.estimate else \
        'the Kaggle data\'s sizes (data not here)'
    if osp.isfile(recipe.train_csv):
        n_train = pd.read_csv(recipe.train_csv, usecols=['image_id'])['image_id'].nunique()
        sample = osp.join(recipe.data_root, 'sample_submission.csv')
        if osp.isfile(sample):
            n_test = len(pd.read_csv(sample, usecols=['image_id']))
        source = f'counted in {recipe.data_root}'
    return n_train, n_test, source


def _epochs(model: ModelSpec) -> Optional[int]:
    if model.epochs:
        return model.epochs
    if '--n-epochs' in model.train_args:
        return int(model.train_args[model.train_args.index('--n-epochs') + 1])
    try:
        from mmengine.config import Config
        return int(Config.fromfile(model.config).train_cfg.max_epochs)
    except Exception:  # noqa: BLE001 - an estimate only: the plan still prints, with the epochs unknown
        return None


def estimate_hours(recipe: Recipe, steps: List[Step]) -> Tuple[Dict[str, float], List[str]]:
    """GPU hours per step (0 for CPU steps), and the notes on where the figures come from."""
    n_train, n_test, source = _count_images(recipe)
    K = recipe.n_folds
    specs = {m.name: m for m in recipe.models}
    if recipe.classifier:
        specs[recipe.classifier.name] = recipe.classifier
    epochs = {name: _epochs(m) for name, m in specs.items()}
    hours: Dict[str, float] = {}
    for step in steps:
        spec = specs.get(step.model) if step.model else None
        if spec is None or step.kind not in ('train', 'oof', 'test', 'classifier'):
            hours[step.name] = 0.0
            continue
        infer_img_s = spec.tta_img_s if spec.tta else spec.test_img_s
        if step.name.startswith('train.'):
            images = (epochs[spec.name] or 0) * n_train * (K - 1) / K
            hours[step.name] = images / spec.train_img_s / 3600  # on N GPUs: 1/N of the time, N times the GPUs
        else:
            images = n_train / K if '.oof.' in f'.{step.name}.' else n_test
            hours[step.name] = images / infer_img_s / 3600
    notes = [f'images: {n_train} train, {n_test} test ({source}); {K} folds']
    for name, spec in specs.items():
        mark = '' if spec.measured else ' *'
        notes.append(f'{name}: {epochs[name] or "?"} epochs at {spec.train_img_s:g} img/s training, '
                     f'{spec.tta_img_s if spec.tta else spec.test_img_s:g} img/s inference'
                     f'{" (--tta)" if spec.tta else ""}{mark}')
    if any(not s.measured for s in specs.values()):
        notes.append('* not measured for this model: the Faster R-CNN R50-FPN figures of '
                     'docs/gpu/h200_2026-11-26.md (one H200, fp32, 1024 px) stand in')
    notes.append('device figures: ' + recipe.estimate.get('device', 'NVIDIA H200, docs/gpu/h200_2026-11-26.md '
                                                                    '(H100 80GB: docs/gpu/h100_2026-11-26.md)'))
    return hours, notes


def format_plan(recipe: Recipe, steps: List[Step], commands: bool = False) -> str:
    hours, notes = estimate_hours(recipe, steps)
    states: Dict[str, str] = {}
    for s in steps:  # a step after one that will run runs again too (its inputs will change)
        states[s.name] = status(recipe.work_dir, s)
        if states[s.name] == 'done' and any(states[d] != 'done' for d in s.deps):
            states[s.name] = 'todo'
    width = max(len(s.name) for s in steps)
    lines = [f'plan of {recipe.path}: {len(steps)} steps, work dir {recipe.work_dir}',
             f'{"step":<{width}}  {"state":<6}  {"GPUs":>4}  {"GPU h":>6}  needs']
    for s in steps:
        deps = ', '.join(s.deps) if len(s.deps) <= 3 else f'{len(s.deps)} steps'
        lines.append(f'{s.name:<{width}}  {states[s.name]:<6}  {s.gpus:>4}  {hours[s.name]:>6.2f}  '
                     f'{deps or "-"}')
        if commands:
            lines.append(f'    $ {s.command()}')
    todo = [s.name for s in steps if states[s.name] != 'done']
    lines += ['', *notes,
              f'to run: {len(todo)} of {len(steps)} steps, about {sum(hours[n] for n in todo):.1f} GPU hours '
              f'(all steps: {sum(hours.values()):.1f} GPU hours)']
    return '\n'.join(lines)
