"""The trained tiny model, shared by the tool tests: trained once per session, seeded (tiny_r18.py sets
``randomness``), so every run of the suite tests the same model."""
import pytest

from tests.helpers import TINY, call_tool, run_tool


@pytest.fixture(scope='session')
def trained(demo_root, tmp_path_factory):
    """Two epochs of the ResNet-18 stand-in through the real command line (a new process, as a user starts it),
    then one more through --resume (in this process). Returns the work dir and both logs."""
    work = tmp_path_factory.mktemp('work')
    first = run_tool('tools/train.py', TINY, '--data-path', demo_root, '--work-dir', work)
    resumed = call_tool('tools/train.py', TINY, '--data-path', demo_root, '--save-path', work, '--resume',
                        '--n-epochs', 3)
    return work, first.stdout + first.stderr, resumed.stdout + resumed.stderr
