"""benchmarks/gpu_check.sh: its parts (log figures, time limits, failures that do not stop it) and a CPU dry run."""
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gpu_check import (
    Section,
    format_table,
    iteration_figures,
    last_error,
    parse_args,
    run_commands,
    training_plan,
)

ROOT = Path(__file__).resolve().parents[2]
TRAIN_LOG = '\n'.join(
    f'11/26 02:06:{k:02d} - mmengine - INFO - Epoch(train)  [1][{k:>2}/12]  base_lr: 1.0000e-03 lr: 1.0000e-03  '
    f'eta: 0:00:10  time: {t}  data_time: 0.0020  memory: {m}  loss: 1.2345'
    for k, (t, m) in enumerate([(2.0, 3000), (0.2, 3900), (0.1, 4096), (0.1, 4000), (0.3, 4000)], 1))
TEST_LOG = ('11/26 02:07:01 - mmengine - INFO - Epoch(test) [ 1/3]    eta: 0:00:01  time: 0.5000  data_time: 0.1\n'
            '11/26 02:07:02 - mmengine - INFO - Epoch(test) [ 2/3]    eta: 0:00:01  time: 0.0500  data_time: 0.0\n'
            '11/26 02:07:02 - mmengine - INFO - Epoch(test) [ 3/3]    eta: 0:00:00  time: 0.0400  data_time: 0.0\n')


def test_figures_from_mmengine_log_lines():
    train = iteration_figures(TRAIN_LOG, 'train', batch=2, warmup=1)
    assert train['iterations'] == 4 and train['s_per_iter'] == pytest.approx(0.15)  # median of 0.2 0.1 0.1 0.3
    assert train['img_s'] == pytest.approx(2 / 0.15) and train['memory_gb'] == pytest.approx(4.0)
    test = iteration_figures(TEST_LOG, 'test', batch=1, warmup=1)
    assert test['img_s'] == pytest.approx(1 / 0.045) and 'memory_gb' not in test  # CPU logs have no memory
    assert iteration_figures(TEST_LOG, 'train', 1, 1) == {}


def test_sections_time_out_fail_with_their_reason_and_the_next_one_runs(tmp_path):
    log = io.StringIO()
    slow, broken, fine = Section('slow', 'slow'), Section('broken', 'broken'), Section('fine', 'fine')
    run_commands(slow, [[sys.executable, '-c', 'import time; time.sleep(30)']], 1, log)
    run_commands(broken, [[sys.executable, '-c', 'raise RuntimeError("CUDA error: out of memory")'],
                          [sys.executable, '-c', 'print("never")']], 30, log)
    out = run_commands(fine, [[sys.executable, '-c', 'print("one")'], [sys.executable, '-c', 'print("two")']],
                       30, log)
    assert (slow.status, broken.status, fine.status) == ('TIMEOUT', 'FAIL', 'OK')
    assert slow.seconds < 10 and 'budget' in slow.note
    assert broken.note == 'RuntimeError: CUDA error: out of memory' and 'never' not in log.getvalue()
    assert out == 'one\ntwo\n'
    table = format_table([slow, broken, fine], 'header')
    assert '| slow | TIMEOUT |' in table and '| broken | FAIL |' in table and '21.4' in table and '3.4' in table


def test_a_batch_sweep_trains_long_enough_and_tabulates_fp32_beside_amp():
    args = parse_args(['--out', 'o', '--batch', '2', '32', '--models', 'main', '--n-train', '160'])
    plan = training_plan(args, {'main': 'main.py'}, 'data', 'python')
    names = [p[0] for p in plan]
    assert names == ['train_main_fp32', 'train_main_amp', 'train_main_fp32_b32', 'train_main_amp_b32']
    epochs = {p[0]: p[3][0][p[3][0].index('--n-epochs') + 1] for p in plan}
    assert epochs['train_main_fp32'] == 1 and epochs['train_main_amp_b32'] == 4  # 16 iterations of 32 in 128 images
    assert all(('--amp' in p[3][0]) == p[0].startswith('train_main_amp') for p in plan)
    sections = [Section(n, n, 'OK', figures=dict(img_s=10.0 * (i + 1), memory_gb=2.0)) for i, n in enumerate(names)]
    table = format_table(sections, 'header', [2, 32])
    assert '| vinbig_faster_rcnn.py | 2 | 10.00 | 20.00 | 2.00 | 2.00 | 2.00 |' in table
    assert '| vinbig_faster_rcnn.py | 32 | 30.00 | 40.00 | 1.33 |' in table
    assert 'against the batch size' not in format_table(sections[:2], 'header', [2])


def test_last_error_line():
    assert last_error('loading\nerror: data folder x does not exist\n') == 'error: data folder x does not exist'
    assert last_error('Traceback\n  File "a"\nmmcv.ops.SomeError: bad\nexit\n') == 'mmcv.ops.SomeError: bad'
    assert last_error('just output\n') == 'just output'


@pytest.mark.slow
def test_dry_run_on_cpu(tmp_path):
    """The whole check on the CPU at 64 px through the shell entry point: every section runs; the --amp ones fail
    (no GPU) and the check goes on; the table and results are written."""
    env = dict(os.environ, GPU_CHECK_DRY_RUN='1', TMPDIR=str(tmp_path),
               PATH=f'{Path(sys.executable).parent}:{os.environ["PATH"]}')
    out = tmp_path / 'out'
    proc = subprocess.run(['bash', str(ROOT / 'benchmarks' / 'gpu_check.sh'), str(out)], env=env,
                          capture_output=True, text=True, timeout=1000)
    results = json.loads((out / 'results.json').read_text())
    status = {s['name']: s['status'] for s in results['sections']}
    assert status == dict(cuda_ops='OK', data='OK', train_main_fp32='OK', train_main_amp='FAIL',
                          train_short_fp32='OK', train_short_amp='FAIL', test_plain='OK', test_tta='OK'), \
        proc.stdout[-3000:]
    notes = {s['name']: s['note'] for s in results['sections']}
    assert 'AmpOptimizerWrapper' in notes['train_main_amp']
    figures = {s['name']: s['figures'] for s in results['sections']}
    for name in ('train_main_fp32', 'train_short_fp32', 'test_plain', 'test_tta'):
        assert figures[name]['img_s'] > 0
    assert proc.returncode == 1  # not every section passed
    assert (out / 'table.md').read_text() in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == ['results.json', 'sections.log', 'table.md']
    assert '===== test_tta' in (out / 'sections.log').read_text()
