"""Reading a checkpoint, and refusing one that does not fit the model.

MMEngine loads whatever keys match and logs the rest as a warning, so the checkpoint of another model (another
class count, another backbone, or no matching key at all) gives a run with random weights that looks real: a
submission, a score. Here the checkpoint's ``state_dict`` is compared with the model first:

- testing, inference and ``--resume``: every weight must be there with the model's shape, and nothing else;
- ``load_from`` for training may replace the box head's classifier and regressor
  (``roi_head.bbox_head.fc_cls`` / ``fc_reg``), the documented way to start from a COCO-trained detector: those
  weights are skipped and logged; anything else is refused;
- ``allow_partial`` (``--allow-partial`` on tools/test.py and tools/infer.py, ``allow_partial_checkpoint=True`` in a
  config) loads whatever fits, for deliberate cases, and logs what did not.

A file that is not a complete checkpoint (truncated, not written by torch, refused by torch's safe loader) is one
:class:`CheckpointError` naming it.
"""
import glob
import logging
import os.path as osp
import re
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from torch import nn

from ..errors import InputError

#: Weights a training ``load_from`` may leave behind when their shape differs (the class-dependent head layers).
HEAD_REPLACEMENT = (r'roi_head\.bbox_head(\.\d+)?\.fc_(cls|reg)\.',  # Faster / Cascade R-CNN (one head per stage)
                    r'bbox_head\.tood_cls\.')  # TOOD: its class output; its box output does not depend on the classes
_SHOWN = 5


class CheckpointError(InputError):
    """A checkpoint that cannot be read, or does not fit the model; the message names it and the fix."""


def read_checkpoint(filename: str, map_location='cpu') -> dict:
    """Load a checkpoint (a local file, or anything MMEngine's loader accepts: ``torchvision://``, URLs);
    a local file that cannot be read is a :class:`CheckpointError` naming it."""
    from mmengine.runner.checkpoint import _load_checkpoint
    if '://' in filename:
        return _load_checkpoint(filename, map_location=map_location)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'{filename}: no such checkpoint file')
    try:
        return _load_checkpoint(filename, map_location=map_location)
    except Exception as exc:  # noqa: BLE001  (whatever the reader says, the file is the problem)
        text = str(exc)
        refused = re.search(r'(Unsupported global|unsupported GLOBAL)[^\n]*', text)
        if refused or 'weights only load failed' in text.lower():
            what = refused.group(0).rstrip('.') if refused else 'objects outside the allowed types'
            raise CheckpointError(
                f'{filename}: refused: it holds Python objects a checkpoint does not need ({what}). Load only '
                f'checkpoints you trust; this one was not written by MMEngine/this project') from None
        reason = text.strip().split('. ')[0].splitlines()[0] if text.strip() else ''
        raise CheckpointError(
            f'{filename}: not a complete checkpoint ({type(exc).__name__}: {reason}). The file is truncated '
            f'(a copy or a write that did not finish) or not a PyTorch checkpoint; use another one, e.g. the '
            f'previous epoch_N.pth') from None


def state_dict_of(checkpoint: dict, revise_keys: Sequence[Tuple[str, str]] = ((r'^module\.', ''), )) -> Dict:
    """The weights of a checkpoint, with keys revised as MMEngine does (``module.`` prefix dropped)."""
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else checkpoint
    if not isinstance(state, dict):
        raise CheckpointError(f'not a checkpoint: no state_dict (got {type(state).__name__})')
    for pattern, replacement in revise_keys:
        state = OrderedDict((re.sub(pattern, replacement, k), v) for k, v in state.items())
    return state


def bare_model(model: nn.Module) -> nn.Module:
    """The module whose weights a checkpoint holds: inside DDP wrappers and the TTA model."""
    from mmengine.model import BaseTTAModel, is_model_wrapper
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    return model


@dataclass
class StateDictDiff:
    """How a checkpoint's weights differ from a model's."""
    missing: List[str] = field(default_factory=list)  # in the model, not in the checkpoint
    unexpected: List[str] = field(default_factory=list)  # in the checkpoint, not in the model
    mismatched: List[Tuple[str, tuple, tuple]] = field(default_factory=list)  # key, checkpoint shape, model shape
    matched: int = 0

    def __bool__(self) -> bool:
        return bool(self.missing or self.unexpected or self.mismatched)

    def describe(self, shown: int = _SHOWN) -> str:
        parts = []
        if self.missing:
            parts.append(f'{len(self.missing)} weight(s) of the model missing from it (e.g. '
                         f'{", ".join(self.missing[:shown])})')
        if self.unexpected:
            parts.append(f'{len(self.unexpected)} weight(s) the model does not have (e.g. '
                         f'{", ".join(self.unexpected[:shown])})')
        if self.mismatched:
            parts.append(f'{len(self.mismatched)} with another shape (e.g. ' + ', '.join(
                f'{k}: checkpoint {tuple(a)}, model {tuple(b)}' for k, a, b in self.mismatched[:shown]) + ')')
        return f'{self.matched} weight(s) match; ' + '; '.join(parts)


def compare_state_dict(state_dict: Dict, model: nn.Module) -> StateDictDiff:
    """Compare checkpoint weights with ``model``'s (BatchNorm's ``num_batches_tracked`` counters ignored)."""
    own = bare_model(model).state_dict()
    diff = StateDictDiff()
    for key, value in own.items():
        if key not in state_dict:
            if not key.endswith('num_batches_tracked'):
                diff.missing.append(key)
        elif hasattr(state_dict[key], 'shape') and tuple(state_dict[key].shape) != tuple(value.shape):
            diff.mismatched.append((key, tuple(state_dict[key].shape), tuple(value.shape)))
        else:
            diff.matched += 1
    diff.unexpected = [k for k in state_dict if k not in own]
    return diff


def check_fits(diff: StateDictDiff, filename: str, fix: str, replaceable: Sequence[str] = ()) -> List[str]:
    """Raise :class:`CheckpointError` unless every difference is a shape mismatch of a ``replaceable`` key
    (regular expressions). Returns the replaced keys."""
    replaced = [k for k, _, _ in diff.mismatched if any(re.match(p, k) for p in replaceable)]
    rest = StateDictDiff(diff.missing, diff.unexpected, [m for m in diff.mismatched if m[0] not in replaced],
                         diff.matched)
    if rest:
        raise CheckpointError(f'checkpoint {filename} does not fit the model: {rest.describe()}. It was made for '
                              f'another model or class count; {fix}')
    return replaced


def load_weights(model: nn.Module, checkpoint: dict, filename: str, allow_partial: bool = False,
                 replaceable: Sequence[str] = (), fix: str = '', logger=None,
                 revise_keys: Sequence[Tuple[str, str]] = ((r'^module\.', ''), )) -> StateDictDiff:
    """Check ``checkpoint`` against ``model`` (see the module docstring) and load it. Returns the differences
    that were accepted (logged)."""
    from mmengine.logging import print_log
    from mmengine.runner.checkpoint import load_state_dict
    state = state_dict_of(checkpoint, revise_keys)
    diff = compare_state_dict(state, model)
    if not diff.matched:
        raise CheckpointError(f'checkpoint {filename} has no weight of this model: {diff.describe()}. It belongs '
                              f'to another model; {fix or "give the checkpoint this config trained"}')
    if allow_partial:
        if diff:
            print_log(f'--allow-partial: loading only what fits from {filename}: {diff.describe()}',
                      logger=logger or 'current', level=logging.WARNING)
    else:
        replaced = check_fits(diff, filename, fix or 'give the checkpoint this config trained', replaceable)
        if replaced:
            print_log(f'{filename}: {len(replaced)} head weight(s) of another class count not loaded (the head '
                      f'is trained from scratch): {", ".join(replaced)}', logger=logger or 'current')
    fitting = OrderedDict((k, v) for k, v in state.items() if k not in {m[0] for m in diff.mismatched})
    fitting._metadata = getattr(state, '_metadata', OrderedDict())
    load_state_dict(bare_model(model), fitting, strict=False, logger=logger or 'current')
    return diff


def init_detector_checked(config, checkpoint: str, device: str = 'cpu', allow_partial: bool = False) -> nn.Module:
    """MMDetection's ``init_detector``, refusing a checkpoint that does not fit the config's model."""
    import warnings

    from mmdet.apis import init_detector
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)  # "checkpoint is None, use COCO classes": set below
        model = init_detector(config, None, device=device)
    ckpt = read_checkpoint(checkpoint)
    load_weights(model, ckpt, checkpoint, allow_partial, fix='give the checkpoint this config trained, or '
                 '--allow-partial to load only the weights that fit')
    meta = ckpt.get('meta', {}) if isinstance(ckpt, dict) else {}
    if 'dataset_meta' in meta:
        model.dataset_meta = dict(model.dataset_meta, **{k.lower(): v for k, v in meta['dataset_meta'].items()})
    else:
        from ..classes import METAINFO
        model.dataset_meta = dict(model.dataset_meta, classes=METAINFO['classes'])
    return model.to(device).eval()


def is_complete_checkpoint(path: str) -> bool:
    """A checkpoint torch.save finished writing (its zip directory, written last, is there)."""
    return osp.isfile(path) and zipfile.is_zipfile(path)


def newest_checkpoint(work_dir: str) -> Optional[str]:
    """The newest complete ``epoch_N.pth`` / ``iter_N.pth`` in ``work_dir``."""
    found = []
    for path in glob.glob(osp.join(work_dir, '*.pth')):
        match = re.fullmatch(r'(epoch|iter)_(\d+)\.pth', osp.basename(path))
        if match and is_complete_checkpoint(path):
            found.append((int(match.group(2)), path))
    return max(found)[1] if found else None
