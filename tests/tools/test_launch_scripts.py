"""The launch scripts (dist_*.sh, slurm_*.sh): the srun command MMDetection users expect (srun is faked: no cluster
here), the Python they choose and say, and one clear message when that Python lacks the stack."""
import argparse
import importlib.util
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, TINY, free_port

SCRIPTS = {'dist_train.sh': ['cfg.py', '2'], 'dist_test.sh': ['cfg.py', 'model.pth', '2'],
           'slurm_train.sh': ['gpu', 'vb', 'cfg.py', 'work'], 'slurm_test.sh': ['gpu', 'vb', 'cfg.py', 'model.pth']}


def fake_srun(tmp_path, **env):
    srun = tmp_path / 'bin' / 'srun'
    srun.parent.mkdir()
    srun.write_text('#!/usr/bin/env bash\nprintf \'%q \' SRUN "$@" > "$SRUN_LOG"\n')  # one word: one %q
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    base = {k: v for k, v in os.environ.items() if k not in ('PYTHON', 'VIRTUAL_ENV')}
    defaults = dict(GPUS='16', GPUS_PER_NODE='8', CPUS_PER_TASK='6', SRUN_ARGS='--qos=high')
    return dict(base, PATH=f'{srun.parent}:{os.environ["PATH"]}', SRUN_LOG=str(tmp_path / 'srun.log'),
                **dict(defaults, **env))


def checkout_with_venv(tmp_path, working: bool) -> Path:
    """A copy of the launch scripts in a checkout whose .venv is this test's Python (working) or a bare one."""
    co = tmp_path / 'checkout'
    (co / 'tools').mkdir(parents=True)
    for name in [*SCRIPTS, 'launch_python.sh']:
        shutil.copy(ROOT / 'tools' / name, co / 'tools' / name)
    if working:  # a stand-in for .venv/bin/python: this test's own interpreter, with the whole stack
        python = co / '.venv' / 'bin' / 'python'
        python.parent.mkdir(parents=True)
        python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        python.chmod(0o755)
    else:
        bare_venv(co / '.venv')
    return co


def bare_venv(path: Path) -> Path:
    subprocess.run([sys.executable, '-m', 'venv', '--without-pip', str(path)], check=True)
    return path / 'bin' / 'python'


def test_slurm_train_and_test_commands(tmp_path):
    env = fake_srun(tmp_path, PYTHON=sys.executable)
    subprocess.run(['bash', 'tools/slurm_train.sh', 'gpu', 'vb', 'configs/vinbig_faster_rcnn.py', 'work_dirs/x',
                    '--amp'], cwd=ROOT, env=env, check=True, capture_output=True)
    line = (tmp_path / 'srun.log').read_text()
    for part in ('-p gpu', '--job-name=vb', '--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
                 '--cpus-per-task=6', '--qos=high', f'{sys.executable} -u tools/train.py configs/vinbig_faster_rcnn.py',
                 '--work-dir=work_dirs/x', '--launcher=slurm', '--amp'):
        assert part in line, part
    subprocess.run(['bash', 'tools/slurm_test.sh', 'gpu', 'vb', 'configs/vinbig_faster_rcnn.py', 'model.pth',
                    '--submission', 's.csv'], cwd=ROOT, env=env, check=True, capture_output=True)
    line = (tmp_path / 'srun.log').read_text()
    assert 'tools/test.py configs/vinbig_faster_rcnn.py model.pth --launcher=slurm --submission s.csv' in line


def test_slurm_scripts_pass_each_argument_as_one_word_from_any_folder(tmp_path):
    """A path with a space stays one argument (the old scripts split it), SRUN_ARGS is split into srun options, and
    the tool is found next to the script when it is started from another folder."""
    env = fake_srun(tmp_path, PYTHON=sys.executable, SRUN_ARGS='--qos=high --time=1:00:00')
    subprocess.run(['bash', str(ROOT / 'tools' / 'slurm_test.sh'), 'gpu', 'vb', 'cfg.py', 'model.pth', '--submission',
                    'my runs/s.csv'], cwd=tmp_path, env=env, check=True, capture_output=True)
    line = (tmp_path / 'srun.log').read_text()
    assert ' --qos=high --time=1:00:00 ' in line
    assert f' {ROOT / "tools" / "test.py"} cfg.py model.pth --launcher=slurm --submission my\\ runs/s.csv ' in line


@pytest.mark.parametrize('script', ['slurm_train.sh', 'slurm_test.sh'])
def test_the_projects_venv_is_used_and_named(tmp_path, script):
    """No PYTHON, no active environment: the checkout's .venv runs the tool, and the script says so."""
    co = checkout_with_venv(tmp_path, working=True)
    proc = subprocess.run(['bash', f'tools/{script}', *SCRIPTS[script]], cwd=co, env=fake_srun(tmp_path),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    python = co / '.venv' / 'bin' / 'python'
    assert f'{python} -u tools/' in (tmp_path / 'srun.log').read_text()
    assert f"{script}: python: {python} (the project's .venv; Python " in proc.stderr
    assert 'torch ' in proc.stderr and 'mmdet 3.' in proc.stderr


def test_the_active_environment_comes_before_the_projects_venv(tmp_path):
    co = checkout_with_venv(tmp_path, working=True)
    active = bare_venv(tmp_path / 'active')
    proc = subprocess.run(['bash', 'tools/slurm_train.sh', *SCRIPTS['slurm_train.sh']], cwd=co,
                          env=fake_srun(tmp_path, VIRTUAL_ENV=str(active.parent.parent)), capture_output=True,
                          text=True)
    assert proc.returncode == 1 and not (tmp_path / 'srun.log').exists()
    assert f'{active} (the active virtual environment) has no torch, mmcv, mmdet, mmengine' in proc.stderr


@pytest.mark.parametrize('script', sorted(SCRIPTS))
def test_a_python_without_the_stack_is_one_message(tmp_path, script):
    """Each script, with PYTHON naming a Python that has no torch: one message naming it and the fix, exit 1,
    and nothing started (no torchrun traceback per process, no srun job)."""
    bare = bare_venv(tmp_path / 'bare')
    proc = subprocess.run(['bash', f'tools/{script}', *SCRIPTS[script]], cwd=ROOT,
                          env=fake_srun(tmp_path, PYTHON=str(bare)), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert f'{script}: error: {bare} (from PYTHON) has no torch, mmcv, mmdet, mmengine' in proc.stderr
    assert 'make install' in proc.stderr and f'bash tools/{script}' in proc.stderr
    assert 'Traceback' not in proc.stderr and 'torch.distributed' not in proc.stderr
    assert not (tmp_path / 'srun.log').exists()
    assert '../shared' not in proc.stderr


def test_an_incomplete_project_venv_and_a_missing_python(tmp_path):
    co = checkout_with_venv(tmp_path, working=False)
    env = fake_srun(tmp_path)
    proc = subprocess.run(['bash', 'tools/dist_train.sh', *SCRIPTS['dist_train.sh']], cwd=co, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and 'Traceback' not in proc.stderr
    assert f"{co}/.venv/bin/python (the project's .venv) has no torch" in proc.stderr
    assert f'rm -f {co}/.venv/.installed && make install' in proc.stderr

    proc = subprocess.run(['bash', 'tools/dist_test.sh', *SCRIPTS['dist_test.sh']], cwd=co,
                          env=dict(env, PYTHON=str(tmp_path / 'nowhere' / 'python')), capture_output=True, text=True)
    assert proc.returncode == 1 and f'no Python at {tmp_path}/nowhere/python (from PYTHON)' in proc.stderr


@pytest.mark.parametrize('script', sorted(SCRIPTS))
def test_missing_arguments_give_the_usage(tmp_path, script):
    proc = subprocess.run(['bash', f'tools/{script}', 'only-one'], cwd=ROOT, env=fake_srun(tmp_path),
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith(f'usage: bash tools/{script} ')
    assert not (tmp_path / 'srun.log').exists()


@pytest.mark.slow
def test_a_failing_distributed_run_ends_promptly_with_its_error(demo_root, tmp_path):
    """Both ranks fail mid-training (a NaN loss, after DDP's collectives): torchrun's status is 1, the error is
    shown, each rank's process group is torn down without hanging, and no checkpoint is written."""
    env = dict(os.environ, PYTHON=sys.executable, CUDA_VISIBLE_DEVICES='', PORT=free_port())
    proc = subprocess.run(['bash', 'tools/dist_train.sh', TINY, '2', '--data-path', str(demo_root), '--work-dir',
                           str(tmp_path / 'work'), '--n-epochs', '1', '--cfg-options',
                           'model.rpn_head.loss_cls.loss_weight=nan'], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 1
    assert 'non-finite loss' in proc.stderr and 'terminate called' not in proc.stderr
    assert not (tmp_path / 'work' / 'epoch_1.pth').exists()


def test_the_launcher_flags_and_an_old_launchers_local_rank(monkeypatch):
    """MMDetection's --launcher/--local_rank, shared by train.py, test.py and predict_abnormal.py: a rank passed as
    --local-rank (torch.distributed.launch) becomes LOCAL_RANK; torchrun's own LOCAL_RANK is kept."""
    spec = importlib.util.spec_from_file_location('tool_args', ROOT / 'tools' / 'tool_args.py')
    tool_args = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool_args)
    parser = argparse.ArgumentParser()
    tool_args.add_launcher_args(parser)
    monkeypatch.delenv('LOCAL_RANK', raising=False)
    monkeypatch.setattr(sys, 'argv', ['train.py', '--launcher', 'pytorch', '--local-rank', '3'])
    args = tool_args.parse_launched_args(parser)
    assert (args.launcher, os.environ['LOCAL_RANK']) == ('pytorch', '3')
    monkeypatch.setenv('LOCAL_RANK', '1')
    monkeypatch.setattr(sys, 'argv', ['train.py', '--local_rank', '5'])
    assert tool_args.parse_launched_args(parser).launcher == 'none' and os.environ['LOCAL_RANK'] == '1'
    monkeypatch.setattr(sys, 'argv', ['train.py', '--launcher', 'horovod'])
    with pytest.raises(SystemExit):
        tool_args.parse_launched_args(parser)
