"""Fixes for the pinned stack, applied once when the package is imported (``custom_imports`` in the configs).

torch >= 2.6 loads checkpoints with ``weights_only=True``; mmengine 0.10.7 calls ``torch.load`` without the
argument, so its own checkpoints (which carry the logger's ``HistoryBuffer`` and numpy arrays) fail to load on
resume, ``load_from`` and test. Rather than turning ``weights_only`` off (arbitrary unpickling), the few types
those checkpoints contain are added to torch's allow-list. ``HistoryBuffer`` pickles its statistics methods as
``getattr(HistoryBuffer, 'min')``; ``getattr`` itself is NOT allowed: a restricted stand-in resolves exactly
those attributes and refuses anything else.
"""
import pickle

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

_HISTORY_BUFFER_METHODS = frozenset({'min', 'max', 'current', 'mean'})


def history_buffer_getattr(obj, name: str):
    """``getattr`` limited to the statistics methods that pickled ``HistoryBuffer`` objects refer to."""
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(obj, name)
    raise pickle.UnpicklingError(f'checkpoint asks for getattr({obj!r}, {name!r}), which is not allowed')



def _numpy_globals() -> list:
    core = getattr(np, '_core', None) or np.core  # numpy 2 renamed numpy.core
    allowed = [np.ndarray, np.dtype, core.multiarray._reconstruct, core.multiarray.scalar]
    dtypes = getattr(np, 'dtypes', None)  # numpy >= 1.25 pickles dtypes by their class
    if dtypes is not None:
        allowed += [getattr(dtypes, n) for n in ('Float64DType', 'Float32DType', 'Int64DType', 'Int32DType',
                                                 'UInt8DType', 'BoolDType') if hasattr(dtypes, n)]
    return allowed


def allow_mmengine_checkpoints() -> bool:
    """Let ``torch.load(weights_only=True)`` read mmengine's checkpoints. Returns False on a torch without
    the allow-list (torch < 2.4 loads everything anyway)."""
    serialization = torch.serialization
    if not hasattr(serialization, 'add_safe_globals'):
        return False
    serialization.add_safe_globals([HistoryBuffer, (history_buffer_getattr, 'builtins.getattr')] +
                                   _numpy_globals())
    return True


allow_mmengine_checkpoints()
