"""What the tests share: where things are, how a tool is run (as a subprocess, or in this process through the same
``__main__`` a user's ``python tools/X.py`` runs), what a refusal looks like, and the run's files."""
import contextlib
import io
import json
import os
import re
import runpy
import shlex
import socket
import subprocess
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / 'tools'
TINY = str(ROOT / 'tests' / 'tools' / 'tiny_r18.py')
DOCS = [ROOT / 'README.md', ROOT / 'data' / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
MARKDOWN = [*DOCS, *sorted((ROOT / 'docs').glob('*/**/*.md'))]  # every page a reader can open
COLUMNS = ['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max', 'y_max']


def write_csv(path, rows, columns=COLUMNS) -> str:
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return str(path)


def run_tool(*args, check: bool = True) -> subprocess.CompletedProcess:
    """``python ARGS...`` in the repository, on the CPU, as a user types it (a new process: imports, exit status,
    signals and the environment are real). Keep it for what a process boundary is the point of."""
    env = dict(os.environ, PYTHONUNBUFFERED='1', CUDA_VISIBLE_DEVICES='')
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}')
    return proc


@dataclass
class ToolRun:
    """What a finished tool left: its exit status and what it printed (the fields of ``CompletedProcess``)."""
    args: List[str]
    returncode: int
    stdout: str
    stderr: str


def _manager_classes() -> list:
    """MMEngine's named singletons that a runner creates (loggers, message hubs, visualizers): their instances are
    emptied for a tool's run and restored after it, so each run logs to its own output as in a new process."""
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.visualization import Visualizer
    classes, todo = [], [MMLogger, MessageHub, Visualizer]
    while todo:
        cls = todo.pop()
        classes.append(cls)
        todo.extend(cls.__subclasses__())
    return classes


@contextlib.contextmanager
def _fresh_managers():
    saved = {cls: dict(cls._instance_dict) for cls in _manager_classes()}
    for cls in saved:
        cls._instance_dict.clear()
    try:
        yield
    finally:
        for cls, instances in saved.items():
            for name, instance in cls._instance_dict.items():
                if name not in instances:  # the run's log files are closed, as at a process's exit
                    for handler in getattr(instance, 'handlers', []):
                        handler.close()
            cls._instance_dict.clear()
            cls._instance_dict.update(instances)


def call_tool(*args, check: bool = True) -> ToolRun:
    """Run ``tools/X.py ARGS...`` (or a benchmark) in this process, exactly as ``python tools/X.py ARGS`` runs it:
    its ``__main__`` with that argv, the tool's folder first on sys.path, the repository as working directory; the
    exit status (``sys.exit``, an uncaught exception as Python reports it) and its output are returned. Saves the
    seconds of importing torch and MMDetection in a new process; the environment is restored after the run."""
    argv = [str(a) for a in args]
    script = Path(argv[0]) if Path(argv[0]).is_absolute() else ROOT / argv[0]
    out, err = io.StringIO(), io.StringIO()
    saved_env, saved_argv, saved_path, saved_cwd = dict(os.environ), sys.argv, list(sys.path), os.getcwd()
    code = 0
    try:
        os.environ['CUDA_VISIBLE_DEVICES'] = ''
        os.chdir(ROOT)
        sys.argv = [str(script), *argv[1:]]
        sys.path.insert(0, str(script.parent))
        with _fresh_managers(), warnings.catch_warnings(), contextlib.redirect_stdout(out), \
                contextlib.redirect_stderr(err):
            warnings.resetwarnings()  # a new interpreter's filters: each warning shown again in each run
            warnings.simplefilter('default')
            for category in (DeprecationWarning, PendingDeprecationWarning, ImportWarning, ResourceWarning):
                warnings.simplefilter('ignore', category)
            try:
                runpy.run_path(str(script), run_name='__main__')
            except SystemExit as exc:
                if isinstance(exc.code, str):
                    print(exc.code, file=sys.stderr)
                code = 1 if isinstance(exc.code, str) else (exc.code or 0)
            except BaseException:  # noqa: BLE001 - reported as the interpreter does at exit
                traceback.print_exc()
                code = 1
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
        sys.argv, sys.path[:] = saved_argv, saved_path
        os.chdir(saved_cwd)
    run = ToolRun(argv, code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f'{argv} failed ({code}):\n{run.stdout[-3000:]}\n{run.stderr[-5000:]}')
    return run


def refused(proc, *named) -> None:
    """The tool said no the project's way: status 1, one message naming ``named``, no traceback."""
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    for text in named:
        assert str(text) in proc.stderr, (text, proc.stderr[-3000:])


def assert_message(proc, *parts) -> None:
    """One message on stderr naming ``parts``, a non-zero exit, no traceback."""
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert 'Traceback' not in proc.stderr, proc.stderr[-3000:]
    for part in parts:
        assert str(part) in proc.stderr, (part, proc.stderr[-3000:])


def scalars(work_dir) -> list:
    """Every line of every run's vis_data/scalars.json under ``work_dir``."""
    files = sorted(Path(work_dir).glob('*/vis_data/scalars.json'))
    return [json.loads(line) for f in files for line in f.read_text().splitlines()]


# The commands the docs show (README.md, data/README.md, docs/*.md): checked against the tools by
# tests/test_docs.py, run as typed by tests/tools/test_readme_commands.py.
PYTHONS = {'python', 'python3', '.venv/bin/python'}
PLACEHOLDER = re.compile(r'^[A-Z][A-Z0-9_]*$')  # CKPT, DIR, N: stands for a value the reader chooses
ENV_PREFIX = re.compile(r'^[A-Z_][A-Z0-9_]*=')  # NNODES=2 bash tools/dist_train.sh ...


class DocCommand(NamedTuple):
    doc: Path
    line: int
    text: str
    argv: List[str]  # without the leading VAR=value settings

    @property
    def where(self) -> str:
        return f'{self.doc.relative_to(ROOT)}:{self.line}'


def markdown_tokens(text: str) -> list:
    """The token stream a CommonMark renderer (with GitHub's tables) builds from ``text``: what GitHub shows, not
    what a line-by-line reading guesses (a fence closed on a line with text, for one, does not close)."""
    from markdown_it import MarkdownIt
    return MarkdownIt('commonmark').enable('table').parse(text)


def command_texts(doc: Path, text: Optional[str] = None):
    """(line number, text) of every line of a fenced code block (continued lines joined) and every inline code
    span, as the renderer finds them."""
    line = 0  # the line of the nearest block seen: a table cell's inline token has no map of its own
    for token in markdown_tokens(doc.read_text() if text is None else text):
        line = token.map[0] if token.map else line
        if token.type == 'fence' and token.map:
            pending = None
            for offset, row in enumerate(token.content.splitlines()):
                start, joined = pending or (token.map[0] + 2 + offset, '')
                joined += row.rstrip()
                if joined.endswith('\\'):  # continued on the next line
                    pending = start, joined[:-1] + ' '
                    continue
                pending = None
                yield start, joined
        elif token.type == 'inline':
            at = 0
            for child in token.children or []:
                if child.type != 'code_inline':
                    continue
                found = token.content.find(child.content, at)
                at = max(found, at)
                yield line + 1 + token.content.count('\n', 0, at), child.content


def parse_command(doc: Path, line: int, text: str) -> Optional[DocCommand]:
    """A DocCommand when ``text`` runs python on a repository script, bash on a .sh script, or make."""
    try:
        tokens = shlex.split(text, comments=True)
    except ValueError:
        return None
    while tokens and ENV_PREFIX.match(tokens[0]):
        tokens = tokens[1:]
    if len(tokens) < 2:
        return None
    runs_script = ((tokens[0] in PYTHONS and tokens[1].endswith('.py'))
                   or (tokens[0] == 'bash' and tokens[1].endswith('.sh')))
    if runs_script or tokens[0] == 'make':
        return DocCommand(doc, line, text, tokens)
    return None


def doc_commands(docs=DOCS) -> List[DocCommand]:
    found = []
    for doc in docs:
        found += [c for c in (parse_command(doc, n, t) for n, t in command_texts(doc)) if c]
    return found




# The README's commands typed on the demo data as a user would after `make demo`.
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


