"""mmengine's checkpoints load under torch's weights_only=True, and nothing else gets through."""
import io
import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import vinbig_mmdet.compat  # noqa: F401


def test_message_hub_state_round_trips_with_weights_only():
    hub = MessageHub.get_instance('compat-test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_scalar('train/loss', 0.5)
    buf = io.BytesIO()
    torch.save({'message_hub': hub.state_dict(), 'meta': {'seed': np.int64(3), 'arr': np.arange(3.0)}}, buf)
    buf.seek(0)
    loaded = torch.load(buf, weights_only=True)
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(restored, HistoryBuffer)
    assert restored.mean() == pytest.approx(1.0) and restored.current() == pytest.approx(0.5)
    assert loaded['meta']['arr'].tolist() == [0, 1, 2]


class _Sneaky:
    """Pickles as getattr(HistoryBuffer, '__init__'): getattr on an allowed class, but not a statistic."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, '__init__')


class _Evil:
    def __reduce__(self):
        import os
        return os.system, ('echo pwned',)


@pytest.mark.parametrize('payload', [_Sneaky(), _Evil()])
def test_other_globals_are_still_refused(payload):
    buf = io.BytesIO()
    torch.save({'x': payload}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)
