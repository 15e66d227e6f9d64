"""The SLURM scripts compose the srun command MMDetection users expect (srun is faked: no cluster here)."""
import os
import stat
import subprocess

from tests.tools.test_train_e2e import ROOT


def fake_srun(tmp_path):
    srun = tmp_path / 'bin' / 'srun'
    srun.parent.mkdir()
    srun.write_text('#!/usr/bin/env bash\necho "SRUN $*" > "$SRUN_LOG"\n')
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)
    return dict(os.environ, PATH=f'{srun.parent}:{os.environ["PATH"]}', SRUN_LOG=str(tmp_path / 'srun.log'),
                GPUS='16', GPUS_PER_NODE='8', CPUS_PER_TASK='6', SRUN_ARGS='--qos=high', PYTHON='python3')


def test_slurm_train_and_test_commands(tmp_path):
    env = fake_srun(tmp_path)
    subprocess.run(['bash', 'tools/slurm_train.sh', 'gpu', 'vb', 'configs/vinbig_faster_rcnn.py', 'work_dirs/x',
                    '--amp'], cwd=ROOT, env=env, check=True, capture_output=True)
    line = (tmp_path / 'srun.log').read_text()
    for part in ('-p gpu', '--job-name=vb', '--gres=gpu:8', '--ntasks=16', '--ntasks-per-node=8',
                 '--cpus-per-task=6', '--qos=high', 'tools/train.py configs/vinbig_faster_rcnn.py',
                 '--work-dir=work_dirs/x', '--launcher=slurm', '--amp'):
        assert part in line, part
    subprocess.run(['bash', 'tools/slurm_test.sh', 'gpu', 'vb', 'configs/vinbig_faster_rcnn.py', 'model.pth',
                    '--submission', 's.csv'], cwd=ROOT, env=env, check=True, capture_output=True)
    line = (tmp_path / 'srun.log').read_text()
    assert 'tools/test.py configs/vinbig_faster_rcnn.py model.pth --launcher=slurm --submission s.csv' in line
