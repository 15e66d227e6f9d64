"""The demo recipe end to end on the session's 24-image data set: 2 folds x 2 tiny detectors + the tiny classifier,
one epoch each, every tool run in this process (tests.helpers.call_tool) through the same step runner users get.
A valid submission (the project's own checks), a summary with the CV table, and a second run that runs nothing."""
import pytest

from tests.helpers import call_tool
from vinbig_mmdet.evaluation import read_submission
from vinbig_mmdet.pipeline import build_steps, load_recipe
from vinbig_mmdet.pipeline.local import run_local

RECIPE = 'configs/pipeline/recipe_demo.py'


def in_process(argv, log, env):
    run = call_tool(*argv, check=False)
    with open(log, 'a') as f:
        f.write(run.stdout + run.stderr)
    return run.returncode


@pytest.fixture
def one_thread():
    """Torch on one thread for the tiny models: measured on the 2-core machine shared with other jobs, ResNet-18 at
    96 px took 1.12 s per image on 2 threads (OpenMP threads wait on each other when the cores are busy) and 0.03 s
    on one."""
    import torch
    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.mark.e2e
def test_demo_recipe_end_to_end(tmp_path, demo_root, one_thread):
    options = {'work_dir': str(tmp_path / 'work'), 'data_root': str(demo_root), 'demo_data': None}
    recipe = load_recipe(RECIPE, options)
    steps = build_steps(recipe)
    lines = []
    outcome = run_local(recipe, steps, in_process, echo=lines.append)
    assert not outcome['failed'] and not outcome['blocked'], '\n'.join(lines)
    assert len(outcome['ran']) == len(steps)

    work = tmp_path / 'work'
    sub = read_submission(str(work / 'submission.csv'))  # every value checked
    assert len(sub) == 6  # the test images of demo_root
    summary = (work / 'summary.md').read_text()
    for text in ('| faster_rcnn |', '| tood |', 'ensemble, tuned weights', '2-class filter', 'OOF mAP@0.4',
                 'Weights tuned on the out-of-fold predictions only', 'train.tood.fold1', 'submission.csv'):
        assert text in summary, text
    assert not list(work.rglob('*.partial*'))  # nothing half-written left anywhere

    again = call_tool('tools/pipeline.py', RECIPE, '--cfg-options', *(f'{k}={v}' for k, v in options.items()))
    assert 'nothing to do: all' in again.stdout and 'running' not in again.stdout
