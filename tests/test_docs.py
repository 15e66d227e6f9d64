"""The docs cannot drift from the tools: every command in README.md, data/README.md and docs/*.md (code blocks and
inline code) names a script that exists, with only flags (and choices) that its argparse parser has, configs
that exist and make targets that the Makefile has. A .sh script is checked against the python tool it forwards to.
The parsers are read from the tools themselves (their argparse, stopped before it parses), never copied here."""
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from tests.helpers import DOCS, PLACEHOLDER, ROOT, DocCommand, doc_commands


def forwarded_tool(script: str) -> str:
    """The python tool a .sh launcher runs (tools/dist_train.sh -> tools/train.py, benchmarks/gpu_check.sh ->
    benchmarks/gpu_check.py): the one .py its code (not its comments) names; a bare name is next to the script."""
    code = '\n'.join(ln for ln in (ROOT / script).read_text().splitlines() if not ln.lstrip().startswith('#'))
    folder = Path(script).parent.as_posix()
    names = {name if '/' in name else f'{folder}/{name}' for name in re.findall(r'[\w/]*\w+\.py\b', code)}
    assert len(names) == 1, f'{script}: cannot tell which python tool it runs ({sorted(names) or "none"})'
    return names.pop()


# Run in a subprocess: imports each script and stops its argparse parser at parse time (nothing runs), then prints
# every option string with its choices.
_READ_PARSERS = r'''
import argparse, json, os, runpy, sys
class Stop(Exception):
    pass
def stop(parser, *args, **kwargs):
    raise Stop(parser)
argparse.ArgumentParser.parse_known_args = stop
out = {}
for script in sys.argv[1:]:
    sys.argv = [script, '--help']
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # as `python script` does
    try:
        runpy.run_path(script, run_name='__main__')
        out[script] = {'error': 'finished without parsing arguments with argparse'}
    except Stop as stopped:
        actions = stopped.args[0]._actions
        out[script] = {'options': {o: (sorted(map(str, a.choices)) if a.choices else None)
                                   for a in actions for o in a.option_strings}}
    except BaseException as exc:
        out[script] = {'error': f'{type(exc).__name__}: {exc}'}
print('PARSERS' + json.dumps(out))
'''


def read_parsers(scripts) -> Dict[str, dict]:
    proc = subprocess.run([sys.executable, '-c', _READ_PARSERS, *scripts], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    marker = [line for line in proc.stdout.splitlines() if line.startswith('PARSERS')]
    assert marker, f'reading the parsers failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}'
    return json.loads(marker[-1][len('PARSERS'):])


def make_targets() -> set:
    text = (ROOT / 'Makefile').read_text()
    return {t for line in re.findall(r'^([^\s#=:][^=:]*?)\s*:(?!=)', text, re.M) for t in line.split()}


def problems_with(cmd: DocCommand, parsers: Dict[str, dict]) -> List[str]:
    """What is wrong with one documented command (empty when it matches the tools)."""
    if cmd.argv[0] == 'make':
        targets = [t for t in cmd.argv[1:] if '=' not in t and not t.startswith('-')]
        return [f'make target {t!r} is not in the Makefile' for t in targets if t not in make_targets()]
    script, args = cmd.argv[1], [a.strip('[]') for a in cmd.argv[2:]]
    if not (ROOT / script).is_file():
        return [f'{script} does not exist']
    tool = forwarded_tool(script) if script.endswith('.sh') else script
    parser = parsers[tool]
    if 'error' in parser:
        return [f'{tool}: cannot read its argparse parser: {parser["error"]}']
    options, problems, choices = parser['options'], [], None
    for arg in args:
        if re.match(r'^--?[A-Za-z]', arg):
            flag = arg.split('=', 1)[0]
            if flag not in options:
                problems.append(f'{tool} has no {flag}')
            choices = options.get(flag)
            continue
        for value in arg.split('|'):  # `--fusion wbf|none` shows the choices
            if choices and not PLACEHOLDER.match(value) and value not in choices:
                problems.append(f'{value!r} is not one of {tool} {choices}')
        if re.match(r'^(configs|tests)/\S+\.py$', arg) and not (ROOT / arg).is_file():
            problems.append(f'config {arg} does not exist')
    return problems


COMMANDS = doc_commands()


@pytest.fixture(scope='module')
def parsers():
    scripts = {c.argv[1] for c in COMMANDS if c.argv[0] != 'make' and (ROOT / c.argv[1]).is_file()}
    return read_parsers(sorted({forwarded_tool(s) if s.endswith('.sh') else s for s in scripts}))


@pytest.mark.parametrize('cmd', COMMANDS, ids=[c.where for c in COMMANDS])
def test_documented_command_matches_the_tool(cmd, parsers):
    assert not problems_with(cmd, parsers), f'{cmd.where}: {cmd.text}\n' + '\n'.join(problems_with(cmd, parsers))


def test_every_tool_mentioned_in_the_docs_exists():
    mention = re.compile(r'(?<![\w/.-])((?:tools|configs|benchmarks)/[\w/.-]+\.(?:py|sh))\b')
    missing = [f'{doc.relative_to(ROOT)}: {path}' for doc in DOCS for path in mention.findall(doc.read_text())
               if not (ROOT / path).is_file()]
    assert not missing, missing


def test_the_commands_are_found():
    """The extraction sees the README's commands (so the checks above cannot pass on nothing)."""
    readme = {(c.argv[0], c.argv[1]) for c in COMMANDS if c.doc.name == 'README.md' and c.doc.parent == ROOT}
    for expected in [('python', 'tools/train.py'), ('python', 'tools/test.py'), ('python', 'tools/make_folds.py'),
                     ('bash', 'tools/dist_train.sh'), ('bash', 'tools/slurm_test.sh'), ('make', 'demo')]:
        assert expected in readme, expected
    continued = [c for c in COMMANDS if c.argv[1] == 'tools/make_folds.py']
    assert continued and all('--out' in c.argv for c in continued)


def test_a_drifted_command_is_caught(tmp_path, parsers):
    doc = tmp_path / 'README.md'
    doc.write_text('```bash\nNNODES=2 bash tools/dist_train.sh configs/vinbig_faster_rcnn.py 8 --no-such-flag \\\n'
                   '    --amp\npython tools/test.py configs/missing.py CKPT --submission s.csv\n```\n'
                   'Then `python tools/train.py configs/vinbig_faster_rcnn.py --launcher pytorch|bogus`'
                   ' and `make nope`.\n')
    found = {c.argv[1]: problems_with(c, parsers) for c in doc_commands([doc])}
    assert found['tools/dist_train.sh'] == ['tools/train.py has no --no-such-flag']
    assert found['tools/test.py'] == ['config configs/missing.py does not exist']
    assert len(found['tools/train.py']) == 1 and "'bogus' is not one of tools/train.py" in found['tools/train.py'][0]
    assert found['nope'] == ["make target 'nope' is not in the Makefile"]


def test_no_message_points_outside_the_checkout():
    """A user's clone has no ../shared (this workplace's cache): no tool, script or package module names it."""
    files = [*ROOT.glob('tools/*.py'), *ROOT.glob('tools/*.sh'), *ROOT.glob('vinbig_mmdet/**/*.py')]
    assert files and not [str(f.relative_to(ROOT)) for f in files if '../shared' in f.read_text()]
