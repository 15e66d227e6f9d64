"""The docs cannot drift from the tools, and render as written: every command in README.md, data/README.md and
docs/*.md (code blocks and inline code, found by a CommonMark parser as GitHub renders them) names a script that
exists, with only flags (and choices) that its argparse parser has, configs that exist and make targets that the
Makefile has. A .sh script is checked against the python tool it forwards to. The parsers are read from the tools
themselves (their argparse, stopped before it parses), never copied here. Every page's code fences close, its
relative links and images resolve inside the repository, it names no file outside the repository, and every figure
the README quotes is one that docs/benchmarks.md reports."""
import functools
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest

from tests.helpers import DOCS, MARKDOWN, PLACEHOLDER, ROOT, DocCommand, command_texts, doc_commands, markdown_tokens


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
                                   for a in actions for o in a.option_strings},
                       'remainder': [o for a in actions if a.nargs == argparse.REMAINDER for o in a.option_strings]}
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
            if flag in parser.get('remainder', []):  # `--train-args ...`: the rest is another tool's
                break
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
                     ('bash', 'tools/dist_train.sh'), ('bash', 'tools/dist_test.sh'), ('bash', 'tools/slurm_test.sh'),
                     ('make', 'demo'), ('make', 'test')]:
        assert expected in readme, expected
    manual = {(c.argv[0], c.argv[1]) for c in COMMANDS if c.doc.parent == ROOT / 'docs'}
    for expected in [('bash', 'tools/slurm_train.sh'), ('python', 'tools/ensemble.py'), ('python', 'tools/infer.py'),
                     ('python', 'tools/prepare_data.py'), ('python', 'tools/draw_submission.py')]:
        assert expected in manual, expected
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



# ---- The pages render as written ----------------------------------------------------------------------------------
FENCE_LINE = re.compile(r'^ {0,3}(`{3,}|~{3,})(.*)$')


def unclosed_fences(text: str) -> List[str]:
    """Code fences a renderer does not close where the writer meant: a fence that runs to the end of its page (or
    list item), or a line inside a fence that starts like a closing fence but carries text (```` ``` text ````
    closes nothing: GitHub shows the rest of the page as code)."""
    lines, problems = text.splitlines(), []
    for token in markdown_tokens(text):
        if token.type != 'fence' or not token.map:
            continue
        start, end = token.map
        closer = FENCE_LINE.match(lines[end - 1]) if end - 1 > start else None
        if not (closer and closer.group(1).startswith(token.markup) and not closer.group(2).strip()):
            problems.append(f'line {start + 1}: the code fence opened here is never closed')
        for number in range(start + 1, end - 1):
            inside = FENCE_LINE.match(lines[number])
            if inside and inside.group(1).startswith(token.markup[0]) and inside.group(2).strip():
                problems.append(f'line {number + 1}: {inside.group(1)} followed by text closes no fence; put the '
                                f'fence alone on its line')
    return problems


def github_slug(heading: str) -> str:
    return re.sub(r'[^\w\- ]', '', heading.strip().lower()).replace(' ', '-')


def anchors(doc: Path) -> set:
    tokens = markdown_tokens(doc.read_text())
    return {github_slug(tokens[i + 1].content) for i, t in enumerate(tokens) if t.type == 'heading_open'}


def link_targets(text: str) -> List[str]:
    """Every link and image target of a page, as the renderer resolves the Markdown."""
    targets, todo = [], list(markdown_tokens(text))
    while todo:
        token = todo.pop(0)
        todo[:0] = token.children or []
        if token.type == 'link_open':
            targets.append(token.attrGet('href'))
        elif token.type == 'image':
            targets.append(token.attrGet('src'))
    return targets


def broken_links(doc: Path, text: Optional[str] = None) -> List[str]:
    problems = []
    for target in link_targets(doc.read_text() if text is None else text):
        if re.match(r'^[a-z][a-z0-9+.-]*:', target):  # https:, mailto:
            continue
        path, _, anchor = target.partition('#')
        file = (doc.parent / path).resolve() if path else doc.resolve()
        if ROOT.resolve() not in file.parents:
            problems.append(f'{target}: outside the repository')
        elif not file.exists():
            problems.append(f'{target}: no such file')
        elif anchor and file.suffix == '.md' and anchor not in anchors(file):
            problems.append(f'{target}: {file.name} has no heading #{anchor}')
    return problems


OUTSIDE = re.compile(r'(?<![\w/.])(\.\./[\w.\-/]*)')
INTERNAL = re.compile(r'\b(?:issue|PR|pull request) #?\d+\b', re.I)


def outside_references(doc: Path, text: Optional[str] = None) -> List[str]:
    """What a reader of a clone cannot follow: a path that leaves the repository (`../shared/...`), or a number in
    this project's private tracker ("issue 12")."""
    text = doc.read_text() if text is None else text
    problems = [f'{m}: a path outside the repository' for m in OUTSIDE.findall(text)
                if ROOT.resolve() not in (doc.parent / m).resolve().parents and (doc.parent / m).resolve() != ROOT]
    return problems + [f'"{m}": the project tracker is not public' for m in INTERNAL.findall(text)]


@pytest.mark.parametrize('doc', MARKDOWN, ids=[str(d.relative_to(ROOT)) for d in MARKDOWN])
def test_the_page_renders_as_written(doc):
    text = doc.read_text()
    problems = unclosed_fences(text) + broken_links(doc) + outside_references(doc)
    assert not problems, f'{doc.relative_to(ROOT)}:\n' + '\n'.join(problems)


BROKEN_FENCE = """## The demo
prints:
```
  validation fold 0 mAP@0.4: 0.3197   (chance, all "No finding": 0.0580)
``` What stays unrealistic is
what a detector needs to learn in minutes on a CPU.

## Tests
`make test` runs ruff and pytest.
"""


def test_a_fence_closed_on_a_line_with_text_is_caught():
    """The README's demo section once closed its output block with ```` ``` What stays unrealistic is````: GitHub
    rendered the rest of the page, headings included, as code. A line-by-line reading took it for a closed fence."""
    problems = unclosed_fences(BROKEN_FENCE)
    assert any('line 3: the code fence opened here is never closed' in p for p in problems), problems
    assert any(p.startswith('line 5: ``` followed by text') for p in problems), problems
    doc = ROOT / 'README.md'
    assert [t for _, t in command_texts(doc, BROKEN_FENCE) if t.startswith('make test')] == []  # shown as code
    assert unclosed_fences(BROKEN_FENCE.replace('``` What', '```\nWhat')) == []


def test_links_and_outside_references_are_caught():
    doc = ROOT / 'README.md'
    text = ('[a](docs/nowhere.md) ![b](docs/images/none.png) [c](docs/benchmarks.md#no-such-section) '
            '[d](https://example.org) [e](docs/benchmarks.md) [f](../shared/STACK.md)\n'
            'the statistics of `../shared/STACK.md`, as collected in this project\'s issue 12\n')
    assert broken_links(doc, text) == ['docs/nowhere.md: no such file', 'docs/images/none.png: no such file',
                                       'docs/benchmarks.md#no-such-section: benchmarks.md has no heading '
                                       '#no-such-section', '../shared/STACK.md: outside the repository']
    assert outside_references(doc, text) == ['../shared/STACK.md: a path outside the repository',
                                             '../shared/STACK.md: a path outside the repository',
                                             '"issue 12": the project tracker is not public']
    assert outside_references(ROOT / 'docs' / 'data.md', '[README](../README.md)') == []


# ---- The README's figures are the benchmarks' ---------------------------------------------------------------------
FIGURE = re.compile(r'(?<![\w.])(\d+\.\d+)(?![\w]|\.\d)')
VERSION_WORDS = re.compile(r'(?:python|mmdetection|mmdet|mmcv|mmengine|torch|torchvision|pydicom|numpy|cuda|'
                           r'apache-|version)\s*$', re.I)


def figures(text: str) -> List[str]:
    """The decimal figures of a page's prose and tables (code blocks and version numbers left out)."""
    lines = text.splitlines()
    for token in markdown_tokens(text):
        if token.type == 'fence' and token.map:
            for i in range(*token.map):
                lines[i] = ''
    prose = '\n'.join(lines)
    return [m.group(1) for m in FIGURE.finditer(prose) if not VERSION_WORDS.search(prose[:m.start()][-20:])]


def traceable(figure: str, reported: List[str]) -> bool:
    """``figure`` is a number the benchmarks report, as written or rounded (0.25 from 0.251, 29.5 from 29.48)."""
    digits = len(figure.split('.')[1])
    return any(r == figure or (len(r.split('.')[1]) > digits and f'{float(r):.{digits}f}' == figure) for r in reported)


def untraced_figures(readme_text: str, benchmarks_text: str) -> List[str]:
    reported = FIGURE.findall(benchmarks_text)
    return sorted({f for f in figures(readme_text) if not traceable(f, reported)})


def test_every_figure_in_the_readme_is_in_the_benchmarks():
    untraced = untraced_figures((ROOT / 'README.md').read_text(), (ROOT / 'docs' / 'benchmarks.md').read_text())
    assert not untraced, f'README.md quotes figures docs/benchmarks.md does not report: {untraced}'


def test_every_printed_score_in_the_docs_is_in_the_benchmarks():
    """Example output (`mAP@0.4: 0.3197`) is a measured run's: the demo section once showed 0.3197 / 0.4890
    against the Results' 0.251 / 0.289."""
    reported = FIGURE.findall((ROOT / 'docs' / 'benchmarks.md').read_text())
    printed = [(doc.relative_to(ROOT), m) for doc in DOCS if doc.name != 'benchmarks.md'
               for m in re.findall(r'mAP@0\.4:\s+(\d\.\d+)', doc.read_text())]
    assert printed and not [p for p in printed if not traceable(p[1], reported)], printed
    assert not traceable('0.3197', reported) and not traceable('0.4890', reported)


def test_an_untraced_figure_is_caught():
    readme = 'Demo: 0.25 on generated data (Python 3.9+, mmcv 2.1), 0.4890 on the test set.\n```\n0.777\n```\n'
    assert untraced_figures(readme, 'validation 0.251 +- 0.021') == ['0.4890']


def test_the_first_screen_labels_demo_figures_as_generated_data():
    """Above the first section, a score could read like a result on real radiographs: every sentence there with a
    figure says the data are generated."""
    top = (ROOT / 'README.md').read_text().split('\n## ')[0]
    sentences = re.split(r'(?<=[.!?])\s+', ' '.join(top.split()))
    quoted = [s for s in sentences if FIGURE.search(s) and 'mAP' in s]
    assert all('generated' in s for s in quoted), quoted


# ---- Checkpoints the docs name exist after the run they follow ----------------------------------------------------
@functools.lru_cache(maxsize=None)
def kept_epochs(config: str) -> frozenset:
    """The epoch_N.pth a finished run of ``config`` still has (the checkpoint hook keeps the last max_keep_ckpts)."""
    from mmengine.config import Config
    cfg = Config.fromfile(ROOT / config)
    hook, last = cfg.default_hooks.checkpoint, cfg.train_cfg.max_epochs
    saved = [e for e in range(1, last + 1) if e % hook.get('interval', 1) == 0 or e == last]
    keep = hook.get('max_keep_ckpts', -1)
    return frozenset(saved if keep is None or keep < 0 else saved[-keep:])


def vanished_checkpoints(docs=DOCS) -> List[str]:
    problems = []
    for doc in docs:
        for number, text in command_texts(doc):
            config = re.search(r'\b(configs/[\w.-]+\.py)\b', text)
            for epoch in re.findall(r'(?<![\w])epoch_(\d+)\.pth', text):
                if config and (ROOT / config.group(1)).is_file() and int(epoch) not in kept_epochs(config.group(1)):
                    problems.append(f'{doc.name}:{number}: epoch_{epoch}.pth is deleted by the end of a '
                                    f'{config.group(1)} run (kept: {sorted(kept_epochs(config.group(1)))})')
    return problems


def test_documented_checkpoints_survive_the_run():
    assert not vanished_checkpoints()


def test_a_deleted_checkpoint_is_caught(tmp_path):
    doc = tmp_path / 'page.md'
    doc.write_text('```bash\nmim test mmdet configs/vinbig_faster_rcnn.py --checkpoint '
                   'work_dirs/vinbig_faster_rcnn/epoch_24.pth\n```\n')
    assert len(vanished_checkpoints([doc])) == 1 and 'kept: [98, 99, 100]' in vanished_checkpoints([doc])[0]
