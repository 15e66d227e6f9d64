"""The pipeline's own small steps, run in-process (or in a SLURM job through ``tools/pipeline.py --run-step``):
joining the classifier's out-of-fold probabilities, and the summary page. Each writes ``partial(out)``; the
step runner renames it. Each returns one line for the step's log."""
import json
import os.path as osp
import time
from typing import Callable, Dict, List

import pandas as pd

from ..errors import InputError
from ..io.atomic import atomic_open
from .graph import Step, partial
from .recipe import Recipe
from .state import read_marker


def merge_probabilities(recipe: Recipe, steps: List[Step], parts: List[str], out: str, auc_out: str,
                        truth: str) -> str:
    """The classifier's OOF probabilities of each fold (disjoint images) in one CSV, and their AUC."""
    from ..evaluation.classification import roc_auc
    from ..evaluation.submission import read_abnormal_probabilities
    merged: Dict[str, float] = {}
    for path in parts:
        probs = read_abnormal_probabilities(path)
        twice = set(probs) & set(merged)
        if twice:
            raise InputError(f'{path} repeats {len(twice)} image(s) of another fold, e.g. {sorted(twice)[:3]}')
        merged.update(probs)
    with atomic_open(partial(out), 'w') as f:
        pd.DataFrame({'image_id': list(merged), 'prob': list(merged.values())}).to_csv(f, index=False)
    ann = pd.read_csv(truth, usecols=['image_id', 'class_id'], dtype={'image_id': str})
    abnormal = ann.groupby('image_id')['class_id'].apply(lambda c: bool((c != 14).any()))
    ids = [i for i in merged if i in abnormal.index]
    auc = roc_auc([abnormal[i] for i in ids], [merged[i] for i in ids])
    with atomic_open(partial(auc_out), 'w') as f:
        json.dump({'auc': auc, 'images': len(ids)}, f)
    return f'{len(merged)} out-of-fold probabilities -> {out}; AUC {auc:.4f} on {len(ids)} images'


def _json(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _check_submission(recipe: Recipe, path: str) -> str:
    """The project's own checks of every row (``read_submission``), and that it covers the test images."""
    from ..evaluation import read_submission
    sub = read_submission(path)
    sample = osp.join(recipe.data_root, 'sample_submission.csv')
    if osp.isfile(sample):
        expected = set(pd.read_csv(sample, usecols=['image_id'], dtype={'image_id': str})['image_id'])
        missing, extra = expected - set(sub), set(sub) - expected
        if missing or extra:
            raise InputError(f'{path}: {len(missing)} test image(s) of {sample} missing (e.g. {sorted(missing)[:3]}), '
                             f'{len(extra)} not in it (e.g. {sorted(extra)[:3]})')
        return f'{len(sub)} rows, every value checked, the {len(expected)} images of {sample}'
    return f'{len(sub)} rows, every value checked'


def write_summary(recipe: Recipe, steps: List[Step], out: str) -> str:
    """One page: the CV table, the chosen weights, where every file is, the wall time of each step."""
    wd = recipe.work_dir
    submission = osp.join(wd, 'submission.csv')
    check = _check_submission(recipe, submission)
    tuned = _json(osp.join(wd, 'ensemble', 'tuned.json'))
    names = [m.name for m in recipe.models]
    lines = ['# Pipeline summary', '',
             f'Recipe `{recipe.path}`, {recipe.n_folds} folds, data `{recipe.data_root}`; written '
             f'{time.strftime("%Y-%m-%d %H:%M:%S")}.', '',
             f'**Submission: `{submission}`** ({check}).', '',
             f'## Out-of-fold CV (mAP@0.4, all {recipe.n_folds} folds\' held-out predictions together)', '',
             '| model | OOF mAP@0.4 | images |', '|---|---|---|']
    for name in names:
        cv = _json(osp.join(wd, 'cv', f'{name}.json'))
        lines.append(f'| {name} | {cv.get("mAP", float("nan")):.4f} | {cv.get("images", "?")} |')
    if tuned.get('equal_weights_oof_map') is not None:
        lines.append(f'| ensemble, equal weights | {tuned["equal_weights_oof_map"]:.4f} | |')
    if 'oof_map' in tuned:
        lines.append(f'| ensemble, tuned weights | {tuned["oof_map"]:.4f} | |')
    ens = _json(osp.join(wd, 'cv', 'ensemble.json'))
    if recipe.classifier and ens:
        lines.append(f'| ensemble, tuned weights + 2-class filter ({recipe.filter_low:g} / {recipe.filter_high:g}) '
                     f'| {ens.get("mAP", float("nan")):.4f} | {ens.get("images", "?")} |')
    auc = _json(osp.join(wd, 'classifier', 'oof_auc.json'))
    if auc:
        lines += ['', f'Classifier (abnormal vs "No finding"): out-of-fold AUC {auc["auc"]:.4f} on {auc["images"]} '
                  f'images; the test probabilities are the mean of its {recipe.n_folds} fold models.']
    if tuned:
        weights = ', '.join(f'{n} {w:g}' for n, w in zip(names, tuned.get('weights', [])))
        lines += ['', '## Ensemble', '',
                  f'Weights tuned on the out-of-fold predictions only: {weights}; WBF IoU threshold '
                  f'{tuned.get("iou_thr")}; each detector\'s {recipe.n_folds} fold models fused first with equal '
                  f'weights.']
    lines += ['', '## Steps', '', '| step | wall time | outputs | log |', '|---|---|---|---|']
    total = 0.0
    for step in steps:
        if step.kind == 'summary':
            continue
        marker = read_marker(wd, step) or {}
        wall = float(marker.get('wall_s', 0.0))
        total += wall
        lines.append(f'| {step.name} | {_duration(wall)} | {", ".join(f"`{o}`" for o in step.outputs)} | '
                     f'`{marker.get("log", "")}` |')
    lines += ['', f'Total wall time of the steps: {_duration(total)} (steps that ran side by side counted each).']
    with atomic_open(partial(out), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return f'summary -> {out}'


def _duration(seconds: float) -> str:
    return f'{seconds:.0f} s' if seconds < 120 else f'{seconds / 60:.1f} min' if seconds < 7200 else \
        f'{seconds / 3600:.1f} h'


OPS: Dict[str, Callable[..., str]] = {'merge_probabilities': merge_probabilities, 'write_summary': write_summary}
