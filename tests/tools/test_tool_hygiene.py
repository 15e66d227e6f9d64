"""The tools and benchmarks rely on the installed package (``pip install -e .``), not on editing sys.path, and run
from any working directory."""
import re
import subprocess
import sys

import pytest

from tests.helpers import ROOT

SCRIPTS = sorted([*ROOT.glob('tools/*.py'), *ROOT.glob('benchmarks/*.py')])
TOOLS = sorted(p for p in ROOT.glob('tools/*.py') if p.name != 'tool_args.py')  # tool_args: their flags


@pytest.mark.parametrize('script', SCRIPTS, ids=lambda p: f'{p.parent.name}/{p.name}')
def test_no_sys_path_edits(script):
    text = script.read_text()
    assert not re.search(r'sys\.path\.(insert|append)', text), f'{script.name} edits sys.path'
    assert 'E402' not in text, f'{script.name} silences E402 (imports after code)'


# Runs every tool's --help in one interpreter (one import of torch and MMDetection for all of them).
_HELP_ALL = r'''
import contextlib, io, os, runpy, sys
failed = {}
for script in sys.argv[1:]:
    sys.argv, out = [script, '--help'], io.StringIO()
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python script` does
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(script, run_name='__main__')
        failed[script] = 'finished without printing --help'
    except SystemExit as exc:
        if exc.code not in (0, None) or 'usage:' not in out.getvalue():
            failed[script] = f'exit {exc.code}: {out.getvalue()[-300:]}'
    except BaseException as exc:
        failed[script] = f'{type(exc).__name__}: {exc}'
print('FAILED', failed)
'''


@pytest.mark.e2e
def test_every_tool_runs_from_another_folder(tmp_path):
    """Every tool's --help from an unrelated folder (the tests' PYTHONPATH stands in for the editable install: see
    tests/conftest.py); two of them as ``python /path/to/tools/X.py``, exactly as a user starts them."""
    proc = subprocess.run([sys.executable, '-c', _HELP_ALL, *map(str, TOOLS)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=600)
    assert 'FAILED {}' in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    for tool in ('tools/check_data.py', 'tools/train.py'):  # the package imported at the top / inside main
        proc = subprocess.run([sys.executable, str(ROOT / tool), '--help'], cwd=tmp_path, capture_output=True,
                              text=True, timeout=600)
        assert proc.returncode == 0 and 'usage:' in proc.stdout, proc.stderr[-2000:]
