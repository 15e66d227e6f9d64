"""After `make demo` and the README's one activation step, the README's own commands run as printed on the demo
data: folds, training, testing and a submission (its 2-process dist_train.sh / dist_test.sh lines run in
tests/tools/test_fault_tolerance.py). Nothing is re-typed here: each command is taken from README.md.

What changes, and only that: the substitutions the README gives for the demo (`data/demo` for `data/vinbig`,
`configs/vinbig_faster_rcnn_demo.py` for `configs/vinbig_faster_rcnn.py`, `--n-epochs 1`, CPU processes for GPUs),
the demo config's seconds-per-epoch stand-in tests/tools/tiny_r18.py, and CKPT / the example checkpoint name for
the checkpoint the training wrote."""
import os
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pandas as pd
import pytest

from tests.test_docs import doc_commands
from tests.tools.test_train_e2e import ROOT

README = ROOT / 'README.md'
DEMO_READING = {'data/vinbig': 'data/demo', 'configs/vinbig_faster_rcnn.py': 'configs/vinbig_faster_rcnn_demo.py'}
STAND_IN = {'configs/vinbig_faster_rcnn_demo.py': 'tests/tools/tiny_r18.py'}  # seconds per epoch, not minutes
QUICK = ['--n-epochs', '1']


def readme_command(matches: Callable[[List[str]], bool]) -> List[str]:
    """The argv of the first README command (comment dropped) for which ``matches(argv)`` holds."""
    found = [c.argv for c in doc_commands([README]) if matches(c.argv)]
    assert found, 'README.md no longer shows this command'
    return found[0]


def on_demo(argv: List[str], gpus: Optional[int] = None, ckpt: Optional[Path] = None) -> str:
    """The command line to type after the README's demo reading (and the test's stand-in config)."""
    out = []
    for arg in argv:
        for old, new in [*DEMO_READING.items(), *STAND_IN.items()]:
            arg = arg.replace(old, new)
        if ckpt is not None and (arg == 'CKPT' or re.match(r'^work_dirs/\S+\.pth$', arg)):
            arg = str(ckpt)
        out.append(arg)
    if gpus is not None:  # dist_train.sh CONFIG NGPUS / dist_test.sh CONFIG CKPT NGPUS
        where = 3 if argv[1].endswith('dist_train.sh') else 4
        assert re.fullmatch(r'\d+', out[where]), out
        out[where] = str(gpus)
    if argv[1].endswith(('train.py', 'dist_train.sh')):
        out += QUICK
    return shlex.join(out)


def test_the_readme_documents_the_demo_reading():
    top = ' '.join(README.read_text().split('\n## ')[0].split())  # the part right after `make demo`, `make test`
    assert 'source .venv/bin/activate' in top and '.venv/bin/python tools/' in top
    for old, new in DEMO_READING.items():
        assert f'`{new}` for `{old}`' in top, (old, new)
    assert '`' + ' '.join(QUICK) + '`' in top and 'CPU processes' in top


def demo_checkout(demo_root: Path, tmp_path: Path, with_folds: bool) -> Path:
    """What a user's checkout looks like after `make demo`: the project's code, the demo data in data/demo (the
    session's small set; folds.csv only when asked), and its own work_dirs/ (none yet)."""
    co = tmp_path / 'checkout'
    co.mkdir()
    for name in ('tools', 'configs', 'vinbig_mmdet', 'tests'):
        (co / name).symlink_to(ROOT / name)
    demo = co / 'data' / 'demo'
    demo.mkdir(parents=True)
    for item in demo_root.iterdir():
        if item.name != 'folds.csv' or with_folds:
            (demo / item.name).symlink_to(item)
    return co


def free_port() -> str:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return str(s.getsockname()[1])


def activated_env() -> Dict[str, str]:
    """The shell after `source .venv/bin/activate`, for the environment running these tests (.venv, or
    .venv-compat under `make test-compat`); no GPUs; PYTHON unset, so the scripts choose by themselves."""
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHON', 'PYTHONHOME')}
    return dict(env, VIRTUAL_ENV=sys.prefix, PATH=f'{Path(sys.executable).parent}:{env["PATH"]}',
                CUDA_VISIBLE_DEVICES='', PYTHONUNBUFFERED='1', PORT=free_port())


def typed(line: str, checkout: Path) -> subprocess.CompletedProcess:
    """Run ``line`` in an activated shell in ``checkout``, as a user types it."""
    proc = subprocess.run(['bash', '-c', line], cwd=checkout, env=activated_env(), capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, f'$ {line}\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    assert 'Traceback' not in proc.stderr, proc.stderr[-5000:]
    return proc


@pytest.mark.slow
def test_readme_commands_run_on_the_demo(demo_root, tmp_path):
    co = demo_checkout(demo_root, tmp_path, with_folds=False)
    folds = readme_command(lambda a: a[:2] == ['python', 'tools/make_folds.py'])
    typed(on_demo(folds), co)
    folds_csv = pd.read_csv(co / 'data' / 'demo' / 'folds.csv', dtype={'image_id': str})
    train_ids = pd.read_csv(demo_root / 'train.csv', dtype={'image_id': str})['image_id']
    assert sorted(folds_csv['image_id']) == sorted(set(train_ids))

    train = readme_command(lambda a: a[:2] == ['python', 'tools/train.py'] and len(a) == 3)
    typed(on_demo(train), co)
    work = co / 'work_dirs' / 'tiny_r18'
    best = sorted(work.glob('best_vinbig_mAP_epoch_*.pth'))
    assert (work / 'epoch_1.pth').is_file() and not (work / 'epoch_2.pth').exists() and len(best) == 1

    val = readme_command(lambda a: a[1] == 'tools/test.py' and a[4:] == ['--val'])
    proc = typed(on_demo(val, ckpt=best[0].relative_to(co)), co)
    assert 'VinBigData mAP@0.4' in proc.stdout + proc.stderr

    submit = readme_command(lambda a: a[1] == 'tools/test.py' and a[2:4] == ['configs/vinbig_faster_rcnn.py', 'CKPT']
                            and len(a) == 6 and a[4] == '--submission')
    typed(on_demo(submit, ckpt=best[0].relative_to(co)), co)
    rows = pd.read_csv(co / submit[5], dtype={'image_id': str})
    expected = pd.read_csv(demo_root / 'sample_submission.csv', dtype={'image_id': str})['image_id']
    assert sorted(rows['image_id']) == sorted(expected)
