"""process_group_teardown: the process group is gone after the block, whatever its outcome, and the outcome (an
exception, or SystemExit with its status) is the block's own."""
import pytest
import torch.distributed as dist

from vinbig_mmdet.engine.distributed import process_group_teardown


@pytest.fixture
def one_rank_group(tmp_path):
    """Starts a real (gloo, world size 1) process group; the test's block must end it."""
    def start():
        dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0, world_size=1)
        assert dist.is_initialized()
    yield start
    if dist.is_initialized():  # only if the code under test failed to
        dist.destroy_process_group()


def test_destroyed_after_success(one_rank_group):
    with process_group_teardown():
        one_rank_group()
    assert not dist.is_initialized()


@pytest.mark.parametrize('code', [0, None, 1, 'error: folds.csv: no fold column'])
def test_destroyed_and_exit_status_kept(one_rank_group, code):
    with pytest.raises(SystemExit) as exc:
        with process_group_teardown():
            one_rank_group()
            raise SystemExit(code)
    assert exc.value.code == code and not dist.is_initialized()


def test_destroyed_after_a_bug_which_keeps_its_traceback(one_rank_group):
    with pytest.raises(KeyError, match='a bug'):
        with process_group_teardown():
            one_rank_group()
            raise KeyError('a bug')
    assert not dist.is_initialized()


def test_a_failing_teardown_does_not_hide_the_error(one_rank_group, monkeypatch):
    def broken():
        raise RuntimeError('teardown failed')
    with pytest.raises(SystemExit) as exc:
        with process_group_teardown():
            one_rank_group()
            monkeypatch.setattr(dist, 'destroy_process_group', broken)
            raise SystemExit('error: the real problem')
    assert exc.value.code == 'error: the real problem'


def test_nothing_to_do_without_a_process_group():
    with process_group_teardown():
        pass
    assert not dist.is_initialized()
