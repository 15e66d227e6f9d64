"""VinBigDataset: Kaggle's train.csv (three readers per image) + DICOMs or resized PNGs -> MMDetection data."""
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log
from PIL import Image

from ..classes import METAINFO, NO_FINDING_ID
from ..io import is_dicom_path, read_dicom_header
from ..io.convert import META_FILE
from .annotations import (AnnotationError, RepairLog, clip_boxes, has_boxes, read_annotations,
                          read_image_list, read_sizes, sizes_from_frame)
from .fusion import fuse_readers, fusion_options

IMAGE_SUFFIXES = ('.dicom', '.dcm', '.png', '.jpg', '.jpeg')


def index_images(folder: str, suffix: Optional[str] = None) -> Dict[str, str]:
    """image_id (file stem) -> file name, from one listing of ``folder``."""
    if not osp.isdir(folder):
        raise FileNotFoundError(
            f'image folder {folder} does not exist. Put the Kaggle DICOMs (or the 1024 px PNGs) there as '
            f'described in data/README.md, or run `make demo` to generate a demo data set.')
    suffixes = (suffix.lower(), ) if suffix else IMAGE_SUFFIXES
    files: Dict[str, str] = {}
    with os.scandir(folder) as it:
        for entry in it:
            stem, ext = osp.splitext(entry.name)
            if ext.lower() in suffixes and entry.is_file():
                if stem in files:
                    raise AnnotationError(f'{folder}: two image files for image_id {stem}: '
                                          f'{files[stem]} and {entry.name}; keep one (or set img_suffix)')
                files[stem] = entry.name
    return files


def _file_size(path: str) -> Tuple[int, int]:
    """(width, height) of an image file without decoding its pixels."""
    if is_dicom_path(path):
        header = read_dicom_header(path)
        return header['columns'], header['rows']
    with Image.open(path) as img:
        return img.size


@DATASETS.register_module()
class VinBigDataset(BaseDetDataset):
    """VinBigData chest X-ray detection dataset.

    Args:
        ann_file: Kaggle ``train.csv`` (boxes in original pixels; may carry ``width``/``height`` columns as in
            the 1024 px PNG version), a CSV with just ``image_id`` (e.g. sample_submission.csv), or '' to list
            every image of the image folder (test mode).
        data_prefix: ``dict(img='train/')``: the folder with ``<image_id>.dicom`` or ``<image_id>.png``.
        meta_file: CSV with image_id, width, height: original sizes for PNGs. By default the ``meta.csv`` that
            tools/prepare_data.py writes into the image folder is used when present. Not needed for DICOMs or when
            ann_file has width/height.
        img_suffix: restrict to one file type (e.g. '.png'); by default any of ``IMAGE_SUFFIXES``.
        fusion: how the readers' boxes become training targets: ``dict(type='wbf'|'nms'|'none',
            iou_thr=0.4, skip_box_thr=0.0)``.
        keep_negatives: keep "No finding" images (70% of the data) as negatives.
        folds_file, fold, split: with a CSV of image_id, fold: ``split='train'`` keeps every fold but
            ``fold``, ``split='val'`` keeps only ``fold``.
        invalid_boxes: 'error' (default) or 'skip' for inverted/empty boxes (counted and logged).
        missing_images: 'error' (default) or 'skip' for annotated images without a file (counted and logged).
    """

    METAINFO = METAINFO

    def __init__(self, *args, meta_file: Optional[str] = None, img_suffix: Optional[str] = None,
                 fusion: Optional[dict] = None, keep_negatives: bool = True, folds_file: Optional[str] = None,
                 fold: Optional[int] = None, split: str = 'train', invalid_boxes: str = 'error',
                 missing_images: str = 'error', **kwargs) -> None:
        fusion = fusion_options(fusion)
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        if (folds_file is None) != (fold is None):
            raise ValueError('folds_file and fold go together: give both or neither')
        if missing_images not in ('error', 'skip'):
            raise ValueError(f"missing_images must be 'error' or 'skip', got {missing_images!r}")
        data_root = kwargs.get('data_root') or ''
        self.meta_file = osp.join(data_root, meta_file) if meta_file else None
        self.folds_file = osp.join(data_root, folds_file) if folds_file else None
        self.img_suffix, self.fusion, self.keep_negatives = img_suffix, fusion, keep_negatives
        self.fold, self.split = fold, split
        self.invalid_boxes, self.missing_images = invalid_boxes, missing_images
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        log = RepairLog()
        img_dir = self.data_prefix.get('img', '') or self.data_root or '.'
        files = index_images(img_dir, self.img_suffix)
        labelled = bool(self.ann_file) and has_boxes(self.ann_file)
        if labelled:
            ann = read_annotations(self.ann_file, self.invalid_boxes, log)
            image_ids = list(dict.fromkeys(ann['image_id']))
        else:
            ann = None
            image_ids = read_image_list(self.ann_file) if self.ann_file else sorted(files)
        image_ids = self._select_fold(image_ids)
        image_ids = self._check_files(image_ids, files, img_dir, log)
        paths = {i: osp.join(img_dir, files[i]) for i in image_ids}
        sizes = self._original_sizes(image_ids, paths, ann, img_dir)
        loaded = self._loaded_sizes(image_ids, paths, sizes)

        groups = {}
        if ann is not None:
            ann = ann[ann['image_id'].isin(set(image_ids))]
            ann = clip_boxes(ann, sizes, self.invalid_boxes, log, self.ann_file)
            groups = {k: g for k, g in ann.groupby('image_id', sort=False)}
        data_list, n_raw, n_fused = [], 0, 0
        for img_id in image_ids:
            (ow, oh), (w, h) = sizes[img_id], loaded[img_id]
            info = dict(img_id=img_id, img_path=paths[img_id], width=w, height=h, original_size=(ow, oh),
                        instances=[], reader_instances=[])
            rows = groups.get(img_id)
            if rows is not None:
                rows = rows[rows['class_id'] != NO_FINDING_ID]
                boxes = rows[['x_min', 'y_min', 'x_max', 'y_max']].to_numpy(np.float64)
                labels = rows['class_id'].to_numpy(np.int64)
                readers = rows['rad_id'].astype(str).to_numpy()
                fused, fused_labels = fuse_readers(boxes, labels, readers, ow, oh, self.fusion['type'],
                                                   self.fusion['iou_thr'], self.fusion['skip_box_thr'])
                scale = np.array([w / ow, h / oh, w / ow, h / oh])
                info['instances'] = [dict(bbox=(b * scale).tolist(), bbox_label=int(lab), ignore_flag=0)
                                     for b, lab in zip(fused, fused_labels)]
                info['reader_instances'] = [dict(bbox=(b * scale).tolist(), bbox_label=int(lab), rad_id=r)
                                            for b, lab, r in zip(boxes, labels, readers)]
                n_raw += len(boxes)
                n_fused += len(fused)
            data_list.append(info)

        n_pos = sum(1 for d in data_list if d['instances'])
        what = (f'{n_pos} with findings, {len(data_list) - n_pos} "No finding"; {n_raw} reader boxes -> '
                f'{n_fused} targets by {self.fusion["type"]}' if labelled else 'unlabelled')
        fold = f', fold {self.fold} {self.split}' if self.fold is not None else ''
        print_log(f'VinBigDataset {self.ann_file or img_dir}{fold}: {len(data_list)} images ({what}); '
                  f'repairs: {log.summary()}', logger='current')
        self.repair_log = log
        return data_list

    def _select_fold(self, image_ids: List[str]) -> List[str]:
        if self.folds_file is None:
            return image_ids
        folds = pd.read_csv(self.folds_file, dtype={'image_id': str})
        if not {'image_id', 'fold'} <= set(folds.columns):
            raise AnnotationError(f'{self.folds_file}: need columns image_id, fold; found {list(folds.columns)}')
        fold_of = dict(zip(folds['image_id'], folds['fold'].astype(int)))
        unassigned = [i for i in image_ids if i not in fold_of]
        if unassigned:
            raise AnnotationError(f'{self.folds_file}: {len(unassigned)} annotated image(s) have no fold, e.g. '
                                  f'{unassigned[:5]}; regenerate it with tools/make_folds.py')
        if self.fold not in set(fold_of.values()):
            raise ValueError(f'{self.folds_file}: fold {self.fold} does not exist '
                             f'(folds: {sorted(set(fold_of.values()))})')
        keep_val = self.split == 'val'
        return [i for i in image_ids if (fold_of[i] == self.fold) == keep_val]

    def _check_files(self, image_ids: List[str], files: Dict[str, str], img_dir: str,
                     log: RepairLog) -> List[str]:
        missing = [i for i in image_ids if i not in files]
        if missing and self.missing_images == 'error':
            raise FileNotFoundError(
                f'{len(missing)} of {len(image_ids)} images listed in {self.ann_file} have no file in {img_dir}, '
                f'e.g. {missing[:5]} (set missing_images="skip" to train without them)')
        log.add('annotated images without a file skipped', len(missing), missing)
        return [i for i in image_ids if i in files]

    def _original_sizes(self, image_ids, paths, ann, img_dir) -> Dict[str, Tuple[int, int]]:
        """Original (DICOM) width/height: from the CSV, the meta file, or the DICOM header."""
        sizes: Dict[str, Tuple[int, int]] = {}
        if ann is not None and {'width', 'height'} <= set(ann.columns):
            sizes.update(sizes_from_frame(ann[['image_id', 'width', 'height']], self.ann_file))
        meta_file = self.meta_file
        if meta_file is None and osp.isfile(osp.join(img_dir, META_FILE)):
            meta_file = osp.join(img_dir, META_FILE)  # written by tools/prepare_data.py
        if meta_file:
            sizes.update({k: v for k, v in read_sizes(meta_file).items() if k not in sizes})
        todo = [i for i in image_ids if i not in sizes]
        not_dicom = [i for i in todo if not is_dicom_path(paths[i])]
        if not_dicom:
            raise AnnotationError(
                f'{len(not_dicom)} non-DICOM image(s) without an original size, e.g. {paths[not_dicom[0]]}: '
                f'boxes are in original DICOM pixels, so give meta_file= (image_id,width,height, as written by '
                f'tools/prepare_data.py) or width/height columns in {self.ann_file or "the annotation CSV"}')
        with ThreadPoolExecutor(8) as pool:  # header reads are I/O bound
            sizes.update(zip(todo, pool.map(lambda i: _file_size(paths[i]), todo)))
        return sizes

    def _loaded_sizes(self, image_ids, paths, sizes) -> Dict[str, Tuple[int, int]]:
        """Size of the file the pipeline will load (DICOM: the original; PNG: read from its header)."""
        resized = [i for i in image_ids if not is_dicom_path(paths[i])]
        loaded = {i: sizes[i] for i in image_ids}
        with ThreadPoolExecutor(8) as pool:
            loaded.update(zip(resized, pool.map(lambda i: _file_size(paths[i]), resized)))
        return loaded

    # ------------------------------------------------------------------ filtering
    def filter_data(self) -> List[dict]:
        """Drop "No finding" images only when asked (``keep_negatives=False``); never in test mode."""
        if self.test_mode or self.keep_negatives:
            return self.data_list
        kept = [d for d in self.data_list if d['instances']]
        print_log(f'VinBigDataset: keep_negatives=False dropped {len(self.data_list) - len(kept)} "No finding" '
                  f'images, {len(kept)} left', logger='current')
        return kept

    def get_cat_ids(self, idx: int) -> List[int]:
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']]
