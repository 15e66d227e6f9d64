"""The contributors' page (docs/design.md) has the full layout: its Layout section names every module and folder of the
package and every tool, so it cannot go stale. The README keeps a few lines of it, for the folders."""
import fnmatch
import re

from tests.helpers import ROOT


def layout_names() -> set:
    """The words of the Layout section's tree (paths and file names, '/'-split parts included)."""
    section = re.search(r'^## Layout\n```\n(.*?)```', (ROOT / 'docs' / 'design.md').read_text(), re.S | re.M)
    assert section, 'docs/design.md has no "## Layout" section with a ``` tree'
    words = set(re.findall(r'[\w*.-]+(?:/[\w*.-]*)*', section.group(1)))
    return words | {part for w in words for part in w.split('/') if part} | {
        f'{p}/' for w in words for p in w.split('/')[:-1] if p}


def unnamed(files, names) -> list:
    return sorted(f for f in files if not any(fnmatch.fnmatchcase(f, n) for n in names))


def test_every_package_module_and_folder_is_in_the_layout():
    package = ROOT / 'vinbig_mmdet'
    entries = [f'{p.name}/' for p in package.iterdir() if (p / '__init__.py').is_file()]
    entries += [p.name for p in package.glob('*.py') if p.name != '__init__.py']
    names = layout_names()
    assert not unnamed(entries, names), f'docs/design.md Layout misses vinbig_mmdet/: {unnamed(entries, names)}'


def test_every_tool_is_in_the_layout():
    tools = [p.name for p in (ROOT / 'tools').iterdir() if p.suffix in ('.py', '.sh')]
    names = layout_names()
    assert not unnamed(tools, names), f'docs/design.md Layout misses tools/: {unnamed(tools, names)}'


def test_a_stale_layout_is_caught():
    assert unnamed(['new_tool.py', 'dist_train.sh'], {'dist_*.sh', 'train.py'}) == ['new_tool.py']


def test_the_readme_layout_names_every_top_level_folder():
    section = re.search(r'^## Layout\n```\n(.*?)```', (ROOT / 'README.md').read_text(), re.S | re.M)
    assert section and len(section.group(1).splitlines()) <= 8, 'README.md: a short "## Layout" tree'
    folders = ['configs/', 'vinbig_mmdet/', 'tools/', 'benchmarks/', 'docs/', 'data/', 'tests/']
    assert not [f for f in folders if f not in section.group(1)]


def test_the_readme_is_a_project_page():
    """At most 170 lines; the set-up commands, the real-data quick start and the Results come before anything else."""
    text = (ROOT / 'README.md').read_text()
    assert len(text.splitlines()) <= 170
    headings = re.findall(r'^## (.+)$', text, re.M)
    assert headings[:2] == ['Quick start on the real data', 'Results'], headings
    assert text.index('make demo') < text.index('## ') and text.index('make test') < text.index('## ')
    for needed in ('## Layout', '## Documentation', '## Tests', '## Citation'):
        assert needed in text, needed
