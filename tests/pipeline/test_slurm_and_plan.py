"""The SLURM executor with a fake ``sbatch`` that records each job and its dependencies; the dry run's plan of the
real recipe (5 folds x 3 detectors + the classifier) with its GPU-hour estimate. No training."""
import json
import os
import stat
import sys

from tests.helpers import ROOT, call_tool, refused
from tests.pipeline.fake import fake_recipe, fake_steps, python_runner
from vinbig_mmdet.pipeline import build_steps, load_recipe
from vinbig_mmdet.pipeline.local import run_local
from vinbig_mmdet.pipeline.slurm import submit_slurm

FAKE_SBATCH = '''#!{python}
import json, sys
log = {log!r}
jobs = json.load(open(log)) if __import__('os').path.exists(log) else []
jobs.append(sys.argv[1:])
json.dump(jobs, open(log, 'w'))
print(f'{{1000 + len(jobs)}};cluster')
'''


def fake_sbatch(tmp_path):
    log = tmp_path / 'sbatch_calls.json'
    exe = tmp_path / 'sbatch'
    exe.write_text(FAKE_SBATCH.format(python=sys.executable, log=str(log)))
    exe.chmod(exe.stat().st_mode | stat.S_IEXEC)
    return str(exe), log


def option(argv, name):
    found = [a.split('=', 1)[1] for a in argv if a.startswith(name + '=')]
    return found[0] if found else None


def test_jobs_wait_on_their_dependencies_and_done_steps_are_not_submitted(tmp_path):
    recipe, calls = fake_recipe(tmp_path), []
    steps = fake_steps(tmp_path)
    run_local(recipe, steps[:1], python_runner(calls), echo=lambda s: None)  # step a is done already
    sbatch, log = fake_sbatch(tmp_path)
    jobs = submit_slurm(recipe, steps, lambda s: f'run {s.name}', sbatch, ['--partition=gpu'], echo=lambda s: None)
    assert jobs == {'b': '1001', 'c': '1002', 'd': '1003'}
    submitted = {option(argv, '--job-name'): argv for argv in json.loads(log.read_text())}
    assert set(submitted) == {'vinbig.b', 'vinbig.c', 'vinbig.d'}
    assert option(submitted['vinbig.b'], '--dependency') is None  # its only dependency is done: nothing to wait on
    assert option(submitted['vinbig.d'], '--dependency') == 'afterok:1001:1002'
    assert '--kill-on-invalid-dep=yes' in submitted['vinbig.d']
    assert option(submitted['vinbig.b'], '--gres') == 'gpu:1' and option(submitted['vinbig.d'], '--gres') is None
    assert all('--partition=gpu' in a and a[-2:] == ['--wrap', f'run {n[-1]}'] for n, a in submitted.items())
    assert option(submitted['vinbig.d'], '--output').endswith('.pipeline/logs/d.log')
    assert json.loads((tmp_path / 'work' / '.pipeline' / 'slurm_jobs.json').read_text()) == jobs


def test_slurm_tool_submits_the_demo_recipe_graph(tmp_path, demo_root):
    """tools/pipeline.py --slurm: one job per step of the recipe, each running --run-step, SLURM's dependencies
    mirroring the step graph."""
    sbatch, log = fake_sbatch(tmp_path)
    run = call_tool('tools/pipeline.py', 'configs/pipeline/recipe_demo.py', '--slurm', '--sbatch', sbatch,
                    '--sbatch-args=--partition=gpu --time=1:00:00',
                    '--cfg-options', f'work_dir={tmp_path}/work', f'data_root={demo_root}', 'demo_data=None')
    submitted = json.loads(log.read_text())
    recipe = load_recipe('configs/pipeline/recipe_demo.py', {'work_dir': f'{tmp_path}/work',
                                                              'data_root': str(demo_root), 'demo_data': None})
    steps = build_steps(recipe)
    assert len(submitted) == len(steps) and f'submitted {len(steps)} job(s)' in run.stdout
    ids = {option(a, '--job-name')[len('vinbig.'):]: str(1001 + i) for i, a in enumerate(submitted)}
    for step, argv in zip(steps, submitted):
        assert argv[-1].endswith(f'--run-step {step.name}') and 'tools/pipeline.py' in argv[-1]
        assert f'work_dir={tmp_path}/work' in argv[-1]
        dep = option(argv, '--dependency')
        assert sorted((dep or 'afterok:')[len('afterok:'):].split(':') if dep else []) == sorted(
            ids[d] for d in step.deps)
        assert '--partition=gpu' in argv and '--time=1:00:00' in argv


def test_plan_of_the_real_recipe(tmp_path):
    run = call_tool('tools/pipeline.py', 'configs/pipeline/recipe_vinbig.py', '--dry-run',
                    '--cfg-options', f'work_dir={tmp_path}/work')
    out = run.stdout
    for name in ('folds', 'train.faster_rcnn.fold4', 'oof.cascade_rcnn.fold0', 'test.tood.fold2', 'cv.tood',
                 'train.classifier.fold3', 'classifier.test.fold4', 'ensemble.tune', 'cv.ensemble', 'submission',
                 'summary'):
        assert f'\n{name} ' in out, name
    assert '72 steps' in out and 'to run: 72 of 72 steps, about' in out and 'GPU hours' in out
    assert 'docs/gpu/h200_2026-11-26.md' in out and '14.67 img/s' in out
    assert not os.path.exists(tmp_path / 'work')  # a plan writes nothing


def test_run_step_and_bad_recipe_are_refused(tmp_path):
    bad = tmp_path / 'bad.py'
    bad.write_text("data_root = 'x'\nwork_dir = 'y'\nmodels = [dict(name='a', config='nowhere.py')]\n")
    refused(call_tool('tools/pipeline.py', bad, '--dry-run', check=False), 'nowhere.py', "'a'")
    refused(call_tool('tools/pipeline.py', ROOT / 'configs/pipeline/recipe_vinbig.py', '--cfg-options',
                      f'work_dir={tmp_path}', 'data_root=/nonexistent', check=False), '/nonexistent/train.csv')


def test_one_graph_for_every_executor(tmp_path):
    """The steps of the real recipe: each training after the folds, each prediction after its training, the
    submission after the tuned weights and every classifier fold; with gpus_per_train the trainings go through
    tools/dist_train.sh."""
    recipe = load_recipe('configs/pipeline/recipe_vinbig.py', {'work_dir': str(tmp_path)})
    steps = {s.name: s for s in build_steps(recipe)}
    assert steps['train.tood.fold3'].deps == ['folds'] and steps['oof.tood.fold3'].deps == ['train.tood.fold3']
    assert {'ensemble.tune', 'fuse.faster_rcnn', 'classifier.test.fold4'} <= set(steps['submission'].deps)
    assert steps['submission'].argv.count('--abnormal-probs') == 1 and sum(
        a.endswith('.csv') and '/classifier/test.fold' in a for a in steps['submission'].argv) == 5
    assert steps['train.tood.fold0'].argv[0] == 'tools/train.py' and '--resume' in steps['train.tood.fold0'].argv
    dist = load_recipe('configs/pipeline/recipe_vinbig.py', {'work_dir': str(tmp_path), 'gpus_per_train': 8})
    train = next(s for s in build_steps(dist) if s.name == 'train.tood.fold0')
    assert train.argv[:4] == ['bash', 'tools/dist_train.sh', 'configs/tood_r50_fpn_coco-pretrained_24e_vinbig.py',
                              '8'] and train.gpus == 8
