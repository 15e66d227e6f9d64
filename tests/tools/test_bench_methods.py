"""benchmarks/bench_methods.py end to end on already-trained models (a finished run is reused, not retrained): the
comparisons it prints and saves follow --fusions."""
import json

import pytest

from tests.helpers import TINY, call_tool

pytestmark = pytest.mark.e2e


def finished_run(folder, checkpoint):
    """A work folder as tools/train.py leaves it: the checkpoint and last_checkpoint naming it."""
    folder.mkdir(parents=True)
    (folder / checkpoint.name).symlink_to(checkpoint)
    (folder / 'last_checkpoint').write_text(str(folder / checkpoint.name))


def test_bench_methods_compares_fusions_only_when_asked(trained, demo_root, tmp_path):
    work, _, _ = trained
    runs = tmp_path / 'runs'
    for name in ('seed0', 'none_seed0'):
        finished_run(runs / name, work / 'epoch_3.pth')
    bench = ('benchmarks/bench_methods.py', '--config', TINY, '--seeds', 0, '--data', demo_root,
             '--eval-data', tmp_path / 'eval', '--eval-size', 3, '--work-dir', runs)

    proc = call_tool(*bench, '--fusions', 'wbf')
    methods = json.loads((runs / 'methods.json').read_text())
    assert [m['method'] for m in methods] == ['TTA flip (off -> on)']
    assert methods[0]['verdict'] == 'one seed: no spread to judge'
    assert (runs / 'seed0' / 'eval_tta.csv').is_file() and not (runs / 'none_seed0' / 'eval.csv').exists()
    assert 'trained' not in proc.stdout and '3 images, chance' in proc.stdout

    proc = call_tool(*bench, '--fusions', 'wbf', 'none')
    methods = json.loads((runs / 'methods.json').read_text())
    assert [m['method'] for m in methods] == ['train on fused targets (none -> wbf)', 'TTA flip (off -> on)']
    assert (runs / 'none_seed0' / 'eval.csv').is_file() and 'none -> wbf' in proc.stdout
