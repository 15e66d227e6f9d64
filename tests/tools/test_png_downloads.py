"""The public 1024 px PNG downloads as shipped, with --data-path alone: the one the original project recommends
(train.csv with width,height; the test images' sizes in test.csv; no sample_submission.csv, no folds) trains and
gives a submission in original pixels; each download's sizes are found under its own file names; --ann-file reads
the annotations from a separate read-only folder."""
import re
import shutil
import stat
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import TINY, call_tool
from vinbig_mmdet.io import read_dicom, read_dicom_header

PNG_SIZE = 128


def ids_of(csv) -> list:
    return list(dict.fromkeys(pd.read_csv(csv, dtype={'image_id': str})['image_id']))


def read_only(folder: Path) -> None:
    for p in [folder, *folder.rglob('*')]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def writable(folder: Path) -> None:
    for p in [folder, *folder.rglob('*')]:
        p.chmod(p.stat().st_mode | stat.S_IWUSR)


def snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob('*'))}


@pytest.fixture(scope='module')
def downloads(demo_root, tmp_path_factory):
    """Made from the demo DICOMs, each with its exact file and column names:

    - awsaf49 (the original project's recommendation): train/ test/ PNGs, train.csv = the competition's columns plus
      width,height; test.csv = image_id,width,height; nothing else
    - xhlulu (the most used in notebooks): train/ test/ PNGs, the competition's train.csv, train_meta.csv and
      test_meta.csv = image_id,dim0,dim1 (rows, columns)
    Returns the folders and image_id -> original (width, height)."""
    base = tmp_path_factory.mktemp('png_downloads')
    sizes = {}
    roots = dict(awsaf49=base / 'vinbigdata-1024-image-dataset', xhlulu=base / 'vinbigdata-chest-xray-resized-png-1024')
    for split in ('train', 'test'):
        for root in roots.values():
            (root / split).mkdir(parents=True)
        for dicom in sorted((demo_root / split).glob('*.dicom')):
            header = read_dicom_header(dicom)
            sizes[dicom.stem] = (header['columns'], header['rows'])
            png = cv2.resize(read_dicom(dicom), (PNG_SIZE, PNG_SIZE), interpolation=cv2.INTER_AREA)
            for root in roots.values():
                cv2.imwrite(str(root / split / f'{dicom.stem}.png'), png)
    train = pd.read_csv(demo_root / 'train.csv', dtype={'image_id': str})
    test_ids = ids_of(demo_root / 'sample_submission.csv')
    a = roots['awsaf49']
    train.assign(width=[sizes[i][0] for i in train['image_id']],
                 height=[sizes[i][1] for i in train['image_id']]).to_csv(a / 'train.csv', index=False)
    pd.DataFrame([(i, *sizes[i]) for i in test_ids], columns=['image_id', 'width', 'height']).to_csv(
        a / 'test.csv', index=False)
    b = roots['xhlulu']
    shutil.copy(demo_root / 'train.csv', b / 'train.csv')
    for split, ids in (('train', ids_of(demo_root / 'train.csv')), ('test', test_ids)):
        pd.DataFrame([(i, sizes[i][1], sizes[i][0]) for i in ids], columns=['image_id', 'dim0', 'dim1']).to_csv(
            b / f'{split}_meta.csv', index=False)
    for root in roots.values():
        read_only(root)
    yield roots, sizes
    for root in roots.values():
        writable(root)


def data_infos(cfg, key) -> list:
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(cfg[key].dataset)
    return [dataset.get_data_info(i) for i in range(len(dataset))]


@pytest.mark.parametrize('name', ['awsaf49', 'xhlulu'])
def test_each_download_sized_with_data_path_alone(downloads, name):
    """Every loader of each download finds its original sizes and its test images under the download's own names."""
    from vinbig_mmdet.engine.config_utils import load_config
    roots, sizes = downloads
    cfg = load_config(TINY, data_path=str(roots[name]))
    test = data_infos(cfg, 'test_dataloader')
    assert sorted(d['img_id'] for d in test) == sorted(p.stem for p in (roots[name] / 'test').iterdir())
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for info in data_infos(cfg, key) if key != 'test_dataloader' else test:
            assert info['original_size'] == sizes[info['img_id']] and (info['width'], info['height']) == (128, 128)


@pytest.fixture(scope='module')
def trained(downloads, tmp_path_factory):
    """One tiny training (seeded) on the recommended download with --data-path alone."""
    roots, _ = downloads
    work = tmp_path_factory.mktemp('png_train')
    before = snapshot(roots['awsaf49'])
    run = call_tool('tools/train.py', TINY, '--data-path', roots['awsaf49'], '--work-dir', work, '--n-epochs', 1,
                    '--device', 'cpu')
    ckpt = re.search(r'last checkpoint (\S+epoch_1\.pth)', run.stdout).group(1)
    return dict(run=run, ckpt=ckpt, before=before)


@pytest.mark.e2e
def test_recommended_download_trains_and_submits_in_original_pixels(downloads, trained, tmp_path):
    roots, sizes = downloads
    root = roots['awsaf49']
    assert 'folds made in memory' in trained['run'].stdout + trained['run'].stderr
    sub, raw = tmp_path / 'submission.csv', tmp_path / 'raw.pkl'
    test = call_tool('tools/test.py', TINY, trained['ckpt'], '--data-path', root, '--submission', sub, '--out', raw,
                     '--work-dir', tmp_path / 'test', '--device', 'cpu', '--cfg-options',
                     'model.test_cfg.rcnn.score_thr=0')
    assert 'sample_submission.csv is test.csv' in test.stdout + test.stderr
    from mmengine.fileio import load
    loaded = {r['img_id']: r for r in load(str(raw))}
    rows = pd.read_csv(sub, dtype={'image_id': str})
    assert sorted(rows['image_id']) == sorted(ids_of(root / 'test.csv'))
    for img_id, text in zip(rows['image_id'], rows['PredictionString']):
        values = np.array(text.split(), dtype=np.float64).reshape(-1, 6)
        width, height = sizes[img_id]
        assert tuple(loaded[img_id]['ori_shape']) == (PNG_SIZE, PNG_SIZE)
        scale = np.array([width / PNG_SIZE, height / PNG_SIZE] * 2)
        expected = np.clip(loaded[img_id]['pred_instances']['bboxes'].numpy() * scale, 0, [width, height] * 2)
        found = values[values[:, 0] != 14, 2:]
        assert len(found) == len(expected)
        np.testing.assert_allclose(np.sort(found, axis=0), np.sort(expected, axis=0), atol=0.051)
    assert snapshot(root) == trained['before']


@pytest.mark.e2e
def test_ann_file_from_a_separate_read_only_folder(downloads, trained, tmp_path):
    """The PNGs without their train.csv, the annotations in another read-only folder (two Kaggle inputs):
    --ann-file in tools/check_data.py and tools/test.py --val (scores the validation fold)."""
    roots, _ = downloads
    images, labels = tmp_path / 'pngs', tmp_path / 'labels'
    images.mkdir()
    labels.mkdir()
    for split in ('train', 'test'):
        (images / split).symlink_to(roots['awsaf49'] / split)
    (images / 'test.csv').symlink_to(roots['awsaf49'] / 'test.csv')
    shutil.copy(roots['awsaf49'] / 'train.csv', labels / 'train.csv')
    read_only(labels)
    try:
        check = call_tool('tools/check_data.py', TINY, '--data-path', images, '--ann-file', labels / 'train.csv',
                          '--workers', 1)
        assert '0 unreadable' in check.stdout
        val = call_tool('tools/test.py', TINY, trained['ckpt'], '--data-path', images, '--ann-file',
                        labels / 'train.csv', '--val', '--work-dir', tmp_path / 'val', '--device', 'cpu')
        assert re.search(r'vinbig/mAP: \d\.\d{4}', val.stdout + val.stderr)
        assert sorted(p.name for p in labels.iterdir()) == ['train.csv']
    finally:
        writable(labels)
