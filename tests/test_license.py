"""The licence pyproject.toml declares is in the repository, as its full text."""
import re

from tests.helpers import ROOT


def test_the_declared_licence_is_shipped():
    declared = re.search(r'^license = \{ text = "([^"]+)" \}', (ROOT / 'pyproject.toml').read_text(), re.M)
    assert declared and declared.group(1) == 'Apache-2.0'
    text = (ROOT / 'LICENSE').read_text()
    assert 'Apache License' in text and 'Version 2.0, January 2004' in text
    assert 'TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION' in text
    assert 'END OF TERMS AND CONDITIONS' in text
