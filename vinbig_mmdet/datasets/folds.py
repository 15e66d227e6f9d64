"""Cross-validation folds grouped by image, stratified on each image's set of findings."""
from typing import Dict, List

import numpy as np
import pandas as pd

from ..classes import NO_FINDING_ID
from ..errors import InputError, require_path
from ..io.csv_reader import LINE, read_csv


def make_folds_command(ann_file: str, folds_file: str) -> str:
    """The command that writes ``folds_file`` for ``ann_file`` (quoted in every message about a missing fold)."""
    return f'python tools/make_folds.py --ann {ann_file} --out {folds_file}'


def read_folds(path: str, ann_file: str = 'train.csv') -> Dict[str, int]:
    """image_id -> fold from a CSV written by tools/make_folds.py; a missing or malformed file is an InputError
    that says how to make it."""
    require_path(path, f'make it with `{make_folds_command(ann_file, path)}` (outside a read-only data folder, '
                       f'then pass --folds-file {path})')
    folds = read_csv(path, ['image_id', 'fold'], dtype={'image_id': str},
                     expected=f'image_id, fold: remake it with `{make_folds_command(ann_file, path)}`')
    fold = pd.to_numeric(folds['fold'], errors='coerce')
    bad = (fold.isna() | (fold % 1 != 0)).to_numpy()
    if bad.any():
        raise InputError(f'{path}: non-integer fold at line(s) {folds[LINE].to_numpy()[bad][:5].tolist()}')
    dup = folds['image_id'].duplicated(keep=False).to_numpy()
    if dup.any():
        first = folds['image_id'].to_numpy()[dup][0]
        lines = folds.loc[folds['image_id'] == first, LINE].tolist()
        raise InputError(f'{path}: {len(set(folds["image_id"].to_numpy()[dup]))} image(s) listed more than once, '
                         f'e.g. {first} at lines {lines} (an image in two folds would be trained on and validated '
                         f'on); remake it with `{make_folds_command(ann_file, path)}`')
    return dict(zip(folds['image_id'], fold.astype(int)))


def image_label_matrix(ann: pd.DataFrame, no_finding_id: int = NO_FINDING_ID) -> pd.DataFrame:
    """image_id x class (0..no_finding_id) presence matrix; an image with no finding row at all counts as "No
    finding" (the last class: 14, or 22 with the PhysioNet release's local labels)."""
    present = pd.crosstab(ann['image_id'], ann['class_id']).reindex(columns=range(no_finding_id + 1),
                                                                     fill_value=0) > 0
    abnormal = present.iloc[:, :no_finding_id].any(axis=1)
    present[no_finding_id] = ~abnormal  # "No finding" only where no reader found anything
    return present.astype(np.int64)


def iterative_stratification(labels: np.ndarray, n_splits: int, seed: int) -> np.ndarray:
    """Fold index per row of a multi-hot ``labels`` matrix (Sechidis et al., 2011): the rarest label first,
    each example to the fold that still wants that label most."""
    rng = np.random.default_rng(seed)
    n, n_labels = labels.shape
    want_label = np.tile(labels.sum(axis=0) / n_splits, (n_splits, 1)).astype(np.float64)
    want_total = np.full(n_splits, n / n_splits)
    fold = np.full(n, -1)
    remaining = labels.astype(bool).copy()
    while (fold < 0).any():
        counts = remaining[fold < 0].sum(axis=0)
        if counts.sum() == 0:  # examples without any label: fill the emptiest folds
            for i in rng.permutation(np.nonzero(fold < 0)[0]):
                f = int(np.argmax(want_total + rng.random(n_splits) * 1e-9))
                fold[i] = f
                want_total[f] -= 1
            break
        label = int(np.argmin(np.where(counts > 0, counts, np.iinfo(np.int64).max)))
        for i in rng.permutation(np.nonzero((fold < 0) & remaining[:, label])[0]):
            # most wanted for this label, then most wanted overall, then random
            key = np.lexsort((rng.random(n_splits), want_total, want_label[:, label]))
            f = int(key[-1])
            fold[i] = f
            want_label[f] -= labels[i]
            want_total[f] -= 1
        remaining[fold >= 0] = False
    return fold


def make_folds(ann: pd.DataFrame, n_splits: int = 5, seed: int = 42,
               no_finding_id: int = NO_FINDING_ID) -> pd.DataFrame:
    """``image_id, fold`` for every image of a train.csv-format frame."""
    if n_splits < 2:
        raise ValueError(f'n_splits must be at least 2, got {n_splits}')
    matrix = image_label_matrix(ann, no_finding_id)
    if len(matrix) < n_splits:
        raise ValueError(f'{len(matrix)} images cannot be split into {n_splits} folds')
    folds = iterative_stratification(matrix.to_numpy(), n_splits, seed)
    return pd.DataFrame({'image_id': matrix.index.astype(str), 'fold': folds})


def fold_class_counts(ann: pd.DataFrame, folds: pd.DataFrame) -> pd.DataFrame:
    """Images per class (rows: class id, columns: fold), for the summary printed by tools/make_folds.py."""
    matrix = image_label_matrix(ann)
    fold_of: Dict[str, int] = dict(zip(folds['image_id'], folds['fold']))
    per_fold: List[pd.Series] = []
    for f in sorted(set(fold_of.values())):
        ids = [i for i in matrix.index if fold_of.get(i) == f]
        per_fold.append(matrix.loc[ids].sum(axis=0).rename(f'fold {f}'))
    return pd.concat(per_fold, axis=1)
