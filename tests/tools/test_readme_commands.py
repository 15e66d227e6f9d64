"""After `make demo` and the README's one activation step, the README's own commands run as printed on the demo
data: folds, training, testing and a submission (its 2-process dist_train.sh / dist_test.sh lines run in
tests/tools/test_fault_tolerance.py). Nothing is re-typed here: each command is taken from README.md.

What changes, and only that: the substitutions the README gives for the demo (`data/demo` for `data/vinbig`,
`configs/vinbig_faster_rcnn_demo.py` for `configs/vinbig_faster_rcnn.py`, `--n-epochs 1`, CPU processes for GPUs),
the demo config's seconds-per-epoch stand-in tests/tools/tiny_r18.py, and CKPT / the example checkpoint name for
the checkpoint the training wrote."""

import pandas as pd
import pytest

from tests.helpers import DEMO_READING, QUICK, README, demo_checkout, on_demo, readme_command, typed


def test_the_readme_documents_the_demo_reading():
    top = ' '.join(README.read_text().split('\n## ')[0].split())  # the part right after `make demo`, `make test`
    assert 'source .venv/bin/activate' in top and '.venv/bin/python tools/' in top
    for old, new in DEMO_READING.items():
        assert f'`{new}` for `{old}`' in top, (old, new)
    assert '`' + ' '.join(QUICK) + '`' in top and 'CPU processes' in top


@pytest.mark.slow
def test_readme_commands_run_on_the_demo(demo_root, tmp_path):
    co = demo_checkout(demo_root, tmp_path, with_folds=False)
    folds = readme_command(lambda a: a[:2] == ['python', 'tools/make_folds.py'])
    typed(on_demo(folds), co)
    folds_csv = pd.read_csv(co / 'data' / 'demo' / 'folds.csv', dtype={'image_id': str})
    train_ids = pd.read_csv(demo_root / 'train.csv', dtype={'image_id': str})['image_id']
    assert sorted(folds_csv['image_id']) == sorted(set(train_ids))

    train = readme_command(lambda a: a[:2] == ['python', 'tools/train.py'] and len(a) == 3)
    typed(on_demo(train), co)
    work = co / 'work_dirs' / 'tiny_r18'
    best = sorted(work.glob('best_vinbig_mAP_epoch_*.pth'))
    assert (work / 'epoch_1.pth').is_file() and not (work / 'epoch_2.pth').exists() and len(best) == 1

    val = readme_command(lambda a: a[1] == 'tools/test.py' and a[4:] == ['--val'])
    proc = typed(on_demo(val, ckpt=best[0].relative_to(co)), co)
    assert 'VinBigData mAP@0.4' in proc.stdout + proc.stderr

    submit = readme_command(lambda a: a[1] == 'tools/test.py' and a[2:4] == ['configs/vinbig_faster_rcnn.py', 'CKPT']
                            and len(a) == 6 and a[4] == '--submission')
    typed(on_demo(submit, ckpt=best[0].relative_to(co)), co)
    rows = pd.read_csv(co / submit[5], dtype={'image_id': str})
    expected = pd.read_csv(demo_root / 'sample_submission.csv', dtype={'image_id': str})['image_id']
    assert sorted(rows['image_id']) == sorted(expected)
