"""README's Layout section names every module and folder of the package and every tool, so it cannot go stale."""
import fnmatch
import re

from tests.helpers import ROOT


def layout_names() -> set:
    """The words of the Layout section's tree (paths and file names, '/'-split parts included)."""
    section = re.search(r'^## Layout\n```\n(.*?)```', (ROOT / 'README.md').read_text(), re.S | re.M)
    assert section, 'README.md has no "## Layout" section with a ``` tree'
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
    assert not unnamed(entries, names), f'README.md Layout misses vinbig_mmdet/: {unnamed(entries, names)}'


def test_every_tool_is_in_the_layout():
    tools = [p.name for p in (ROOT / 'tools').iterdir() if p.suffix in ('.py', '.sh')]
    names = layout_names()
    assert not unnamed(tools, names), f'README.md Layout misses tools/: {unnamed(tools, names)}'


def test_a_stale_layout_is_caught():
    assert unnamed(['new_tool.py', 'dist_train.sh'], {'dist_*.sh', 'train.py'}) == ['new_tool.py']
