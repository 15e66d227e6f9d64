"""VinDr-CXR as released on PhysioNet, end to end with ``--data-path`` and nothing else: the layout written exactly
as released (read-only), a tiny training on Kaggle's 14 classes and one on the release's 22 labels, each scoring the
labelled test set through tools/test.py (mAP@0.4 and mAP@0.5) and writing a submission; the data folder unchanged."""
import re
import stat
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import ROOT, TINY, call_tool

TINY_22 = str(ROOT / 'tests' / 'tools' / 'tiny_r18_22cls.py')
pytestmark = pytest.mark.e2e


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob('*'))}


def read_only(folder: Path) -> None:
    for p in [folder, *folder.rglob('*')]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def make_writable(folder: Path) -> None:
    for p in [folder, *folder.rglob('*')]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


@pytest.fixture(scope='module')
def physionet(tmp_path_factory):
    """The release's layout (16 train, 6 test DICOMs of 160-260 px), read-only, and one tiny training per class
    set on it (seeded) with its tools/test.py run on the labelled test set."""
    from vinbig_mmdet.demo.physionet import make_physionet_demo
    base = tmp_path_factory.mktemp('physionet')
    root = base / 'vindr-cxr' / '1.0.0'
    summary = make_physionet_demo(str(root), n_train=16, n_test=6, seed=3, workers=2, progress=False,
                                  height_range=(160, 260), normal_frac=0.5)
    read_only(root)
    before = snapshot(root)
    runs = {}
    for name, config in (('kaggle14', TINY), ('vindr22', TINY_22)):
        work = base / name
        train = call_tool('tools/train.py', config, '--data-path', root, '--work-dir', work, '--n-epochs', 1,
                          '--device', 'cpu')
        ckpt = re.search(r'last checkpoint (\S+epoch_1\.pth)', train.stdout).group(1)
        sub = base / f'{name}_submission.csv'
        test = call_tool('tools/test.py', config, ckpt, '--data-path', root, '--submission', sub,
                         '--work-dir', base / f'{name}_test', '--device', 'cpu', check=False)
        runs[name] = dict(train=train, test=test, submission=sub)
    yield dict(root=root, before=before, summary=summary, runs=runs)
    make_writable(root)


def log_of(run) -> str:
    return run.stdout + run.stderr


def test_release_layout_as_written(physionet):
    """The files and columns of the release (docs/physionet.md), and nothing of Kaggle's."""
    root = physionet['root']
    files = sorted(str(p.relative_to(root)) for p in root.rglob('*.csv'))
    assert files == ['annotations/annotations_test.csv', 'annotations/annotations_train.csv',
                     'annotations/image_labels_test.csv', 'annotations/image_labels_train.csv']
    for split in ('train', 'test'):
        ann = pd.read_csv(root / 'annotations' / f'annotations_{split}.csv')
        assert list(ann.columns) == ['image_id', 'rad_id', 'class_name', 'x_min', 'y_min', 'x_max', 'y_max']
        assert ann.loc[ann['class_name'] == 'No finding', 'x_min'].isna().all()
        assert {p.suffix for p in (root / split).iterdir()} == {'.dicom'}
    labels = pd.read_csv(root / 'annotations' / 'image_labels_train.csv')
    assert list(labels.columns[:3]) == ['image_id', 'rad_id', 'Aortic enlargement']
    assert labels.groupby('image_id').size().eq(3).all()  # three readers per training image
    assert 'Other disease' in pd.read_csv(root / 'annotations' / 'image_labels_test.csv').columns
    assert physionet['summary']['n_extra_rows'] > 0  # labels Kaggle's 14 lack, for the drop count


def test_trains_and_scores_the_labelled_test_set_with_data_path_alone(physionet):
    for name, run in physionet['runs'].items():
        train, test = run['train'], run['test']
        assert 'Training done: best mAP@0.4' in train.stdout, name
        assert test.returncode == 0, log_of(test)[-3000:]
        log = log_of(test)
        assert 'annotations/annotations_test.csv (labelled: scored)' in log
        assert 'consensus labels (one reader per image)' in log and 'no wbf fusion' in log
        assert re.search(r'VinBigData mAP@0\.4 on 6 images:\n id  class', log), name  # per-class table
        assert re.search(r'VinBigData mAP@0\.5 on 6 images:', log), name
        assert re.search(r'vinbig/mAP: \d\.\d{4}.*vinbig/mAP_50: \d\.\d{4}', log), name
        sub = pd.read_csv(run['submission'], dtype={'image_id': str})
        assert sorted(sub['image_id']) == sorted(p.stem for p in (physionet['root'] / 'test').iterdir())


def test_class_sets_drop_and_count(physionet):
    """The same folder: the 14-class run drops (and counts) the rows of the 8 labels Kaggle lacks, the 22-class run
    none; "No finding" is the last id of each set in the submission."""
    n_train_extra = int(pd.read_csv(physionet['root'] / 'annotations' / 'annotations_train.csv')['class_name']
                        .isin(['Clavicle fracture', 'Edema', 'Emphysema', 'Enlarged PA', 'Lung cavity', 'Lung cyst',
                               'Mediastinal shift', 'Rib fracture']).sum())
    log14, log22 = (log_of(physionet['runs'][k]['train']) for k in ('kaggle14', 'vindr22'))
    assert f'class set kaggle14 (14 classes): {n_train_extra} label rows outside it dropped' in log14
    assert 'labels outside the 14-class set dropped' in log14
    assert 'class set vindr22 (22 classes): 0 label rows outside it dropped' in log22
    for name, no_finding in (('kaggle14', '14'), ('vindr22', '22')):
        strings = pd.read_csv(physionet['runs'][name]['submission'])['PredictionString']
        assert all(f' {no_finding} ' in f' {s} ' for s in strings), name
    assert 'AP_Rib_fracture' not in log14


def test_data_folder_unchanged(physionet):
    assert snapshot(physionet['root']) == physionet['before']
