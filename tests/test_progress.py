"""Progress written to a log file (not a terminal) comes as a few whole lines, not hundreds of carriage-return
redraws on one line; on a terminal it stays tqdm's live bar. Every tool's bar is this one."""
import io
import re

import pytest

from tests.helpers import ROOT
from vinbig_mmdet import progress
from vinbig_mmdet.io.check import check_images


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_log_gets_whole_lines(monkeypatch):
    clock = iter(range(0, 100000, 3))  # each update 3 s later: 1000 updates over 50 minutes
    import tqdm.std
    monkeypatch.setattr(tqdm.std, 'time', lambda: float(next(clock)))
    log = io.StringIO()
    for _ in progress.progress_bar(range(1000), desc='decode', unit='img', stream=log):
        pass
    text = log.getvalue()
    assert '\r' not in text and '\x1b' not in text
    lines = text.splitlines()
    assert 2 <= len(lines) <= 3000 / progress.LOG_INTERVAL_S + 3, lines[:5]
    assert '1000/1000' in lines[-1] and lines[-1].startswith('decode')


def test_a_terminal_gets_the_live_bar():
    tty = Terminal()
    for _ in progress.progress_bar(range(50), desc='x', stream=tty):
        pass
    assert '\r' in tty.getvalue()


def test_check_images_writes_lines_to_a_redirected_stderr(tmp_path, capsys):
    check_images([str(tmp_path / 'missing.png')] * 3, workers=1)
    err = capsys.readouterr().err
    assert '\r' not in err and re.search(r'^decode.*3/3', err, re.M), err


@pytest.mark.parametrize('folder', ['vinbig_mmdet', 'tools', 'benchmarks'])
def test_no_other_progress_bar(folder):
    users = [p.relative_to(ROOT).as_posix() for p in (ROOT / folder).rglob('*.py')
             if re.search(r'\bfrom tqdm import|\bimport tqdm\b', p.read_text()) and p.name != 'progress.py']
    assert not users, f'use vinbig_mmdet.progress.progress_bar: {users}'
