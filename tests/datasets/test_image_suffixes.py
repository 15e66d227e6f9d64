"""One list of image suffixes: every file the reader can read is also indexed, listed for conversion and loaded."""
import numpy as np

from tests.helpers import write_csv
from vinbig_mmdet.datasets import VinBigDataset
from vinbig_mmdet.datasets.transforms import LoadDicomFromFile
from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.io import DICOM_SUFFIXES, IMAGE_SUFFIXES, read_image
from vinbig_mmdet.io.convert import list_dicoms

W, H = 40, 30
SUFFIXES = {'img_dic': '.dic', 'img_dcm': '.DCM', 'img_dicom': '.dicom'}  # upper case as some exporters write


def test_every_dicom_suffix_is_an_image_suffix():
    assert set(DICOM_SUFFIXES) <= set(IMAGE_SUFFIXES) and '.dic' in DICOM_SUFFIXES


def test_dic_files_are_indexed_listed_and_read(tmp_path, rng):
    (tmp_path / 'train').mkdir()
    for img_id, suffix in SUFFIXES.items():
        write_dicom(tmp_path / 'train' / f'{img_id}{suffix}', rng.integers(0, 4096, (H, W)).astype(np.uint16))
    write_csv(tmp_path / 'train.csv', [(i, 'No finding', 14, 'R8', None, None, None, None) for i in SUFFIXES])
    dataset = VinBigDataset(data_root=str(tmp_path), ann_file='train.csv', data_prefix=dict(img='train/'),
                            pipeline=[LoadDicomFromFile()], test_mode=True)
    infos = {dataset.get_data_info(k)['img_id']: dataset.get_data_info(k) for k in range(len(dataset))}
    assert sorted(infos) == sorted(SUFFIXES)
    assert infos['img_dic']['img_path'].endswith('img_dic.dic')
    assert (infos['img_dic']['width'], infos['img_dic']['height']) == (W, H)  # size from the DICOM header
    loaded = {dataset[k]['img_path']: dataset[k]['img'] for k in range(len(dataset))}
    assert all(img.shape == (H, W, 3) for img in loaded.values())
    assert read_image(infos['img_dic']['img_path']).shape == (H, W)
    assert sorted(p.rsplit('/', 1)[1] for p in list_dicoms(str(tmp_path / 'train'))) == sorted(
        f'{i}{s}' for i, s in SUFFIXES.items())
