"""The trained tiny model, shared by the tool tests (trained once per session)."""
import pytest

from tests.tools.test_train_e2e import TINY, run_tool


@pytest.fixture(scope='session')
def trained(demo_root, tmp_path_factory):
    """Two epochs of the ResNet-18 stand-in, then one more through --resume."""
    work = tmp_path_factory.mktemp('work')
    first = run_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', work)
    resumed = run_tool('tools/train.py', TINY, '--data-path', demo_root, '--save-path', work, '--resume',
                       '--n-epochs', 3)
    return work, first.stdout + first.stderr, resumed.stdout + resumed.stderr
