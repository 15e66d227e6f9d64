"""Fake steps for the executor tests: no training, each step a tiny Python tool that copies its inputs' text."""
import sys
import textwrap
from pathlib import Path
from typing import List

from vinbig_mmdet.pipeline.graph import Step, partial
from vinbig_mmdet.pipeline.recipe import ModelSpec, Recipe

TOOL = textwrap.dedent('''
    # fake step: python fake_tool.py OUT [IN...] [--fail] [--interrupt]
    import sys
    out, *ins = [a for a in sys.argv[1:] if not a.startswith('--')]
    text = ''.join(open(p).read() for p in ins) + out + '\\n'
    with open(out, 'w') as f:
        f.write(text[: len(text) // 2])  # half-written, as a killed step leaves it
        if '--interrupt' in sys.argv:
            raise KeyboardInterrupt
        f.write(text[len(text) // 2:])
    if '--fail' in sys.argv:
        sys.exit('fake failure')
''')


def fake_recipe(tmp_path: Path) -> Recipe:
    return Recipe(path=str(tmp_path / 'recipe.py'), data_root=str(tmp_path / 'data'),
                  work_dir=str(tmp_path / 'work'), models=[ModelSpec('a', 'a.py')])


def fake_steps(tmp_path: Path, fail: str = '', interrupt: str = '') -> List[Step]:
    """a -> (b, c) -> d: a diamond, as folds -> detectors -> ensemble."""
    tool = tmp_path / 'fake_tool.py'
    tool.write_text(TOOL)
    src = tmp_path / 'src.txt'
    if not src.exists():
        src.write_text('source\n')
    out = {n: str(tmp_path / 'work' / f'{n}.txt') for n in 'abcd'}
    ins = {'a': [str(src)], 'b': [out['a']], 'c': [out['a']], 'd': [out['b'], out['c']]}
    deps = {'a': [], 'b': ['a'], 'c': ['a'], 'd': ['b', 'c']}
    steps = []
    for n in 'abcd':
        flags = (['--fail'] if n == fail else []) + (['--interrupt'] if n == interrupt else [])
        steps.append(Step(n, 'train' if n in 'bc' else 'cv', [str(tool), partial(out[n]), *ins[n], *flags],
                          outputs=[out[n]], inputs=ins[n], deps=deps[n], gpus=1 if n in 'bc' else 0))
    return steps


def python_runner(calls: list):
    """A runner that records each command and runs it with this interpreter (a new process, quick)."""
    import subprocess

    def run(argv, log, env):
        calls.append((list(argv), dict(env)))
        with open(log, 'a') as f:
            proc = subprocess.run([sys.executable, *argv], stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode == -2 or proc.returncode == 130 or 'KeyboardInterrupt' in open(log).read():
            raise KeyboardInterrupt  # the user's Ctrl-C (or a kill) stops the whole pipeline
        return proc.returncode
    return run
