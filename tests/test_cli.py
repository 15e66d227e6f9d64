"""The tools' shared guard: bad input is one message and a non-zero exit; bugs keep their traceback."""
import pytest

from vinbig_mmdet.cli import error_message, run_tool
from vinbig_mmdet.datasets.annotations import AnnotationError


def test_input_error_becomes_one_message(capsys):
    def main():
        raise AnnotationError('train.csv: 1 row(s) with an empty image_id, at line 7')

    with pytest.raises(SystemExit) as exc:
        run_tool(main)
    assert exc.value.code == 'error: train.csv: 1 row(s) with an empty image_id, at line 7'


def test_registry_prefix_is_dropped():
    exc = AnnotationError('class `VinBigDataset` in vinbig_mmdet/datasets/vinbig.py: folds.csv: no fold column')
    assert error_message(exc) == 'folds.csv: no fold column'


def test_bugs_keep_their_traceback():
    def main():
        raise KeyError('a bug')

    with pytest.raises(KeyError):
        run_tool(main)


def test_exit_status_of_main_is_kept():
    with pytest.raises(SystemExit) as exc:
        run_tool(lambda: 3)
    assert exc.value.code == 3
