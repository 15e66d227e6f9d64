"""VinBigDataset: Kaggle's train.csv (three readers per image) + DICOMs or resized PNGs -> MMDetection data."""
import numbers
import os
import os.path as osp
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Tuple

import numpy as np
import pandas as pd
from mmdet.datasets import BaseDetDataset
from mmdet.registry import DATASETS
from mmengine.logging import print_log
from PIL import Image

from ..classes import DEFAULT_CLASS_SET, METAINFO, palette_for
from ..classes import class_set as classes_of_set
from ..errors import InputError, require_path
from ..io import IMAGE_SUFFIXES, ImageReadError, is_dicom_path, read_dicom_header
from ..io.convert import META_FILE
from ..structures.boxes import BOX_COLUMNS
from .annotations import (
    KAGGLE_COLUMNS,
    LABEL_COLUMNS,
    AnnotationError,
    RepairLog,
    clip_boxes,
    has_boxes,
    read_annotations,
    read_image_list,
    read_sizes,
    sizes_from_frame,
)
from .folds import make_folds, make_folds_command, read_folds
from .fusion import fuse_readers, fusion_options
from .layout import is_sizes_file

GET_DATA = ('download the data from the Kaggle competition (or a 1024 px PNG version) as data/README.md describes '
            'and point --data-path at its folder, or generate demo data with `make demo`')
_KAGGLE_FORMAT_HINT = f"Kaggle's train.csv format ({', '.join(KAGGLE_COLUMNS)})"
Findings = Tuple[np.ndarray, np.ndarray, np.ndarray]  # boxes (N, 4), labels (N,), reader ids (N,)


FILTER_KEYS = ('filter_empty_gt', 'min_size')


def check_filter_cfg(kwargs: dict) -> None:
    """Refuse the old ``keep_negatives`` (naming its replacement) and ``filter_cfg`` keys the dataset ignores."""
    if 'keep_negatives' in kwargs:
        old = kwargs['keep_negatives']
        raise InputError(f'VinBigDataset: keep_negatives={old!r} is replaced by MMDetection\'s filter_cfg: write '
                         f'filter_cfg=dict(filter_empty_gt={not old}) in the dataset (train_dataloader.dataset)')
    unknown = sorted(set(kwargs.get('filter_cfg') or {}) - set(FILTER_KEYS))
    if unknown:
        raise InputError(f'VinBigDataset: filter_cfg key(s) {unknown} not understood; it accepts '
                         f'{", ".join(FILTER_KEYS)}')


def check_filter_types(filter_cfg: Optional[dict]) -> None:
    """``filter_empty_gt`` must be a bool (the string 'no' is true in Python) and ``min_size`` a number >= 0."""
    cfg = filter_cfg or {}
    if 'filter_empty_gt' in cfg and not isinstance(cfg['filter_empty_gt'], (bool, np.bool_)):
        raise InputError(f'VinBigDataset: filter_cfg.filter_empty_gt={cfg["filter_empty_gt"]!r} is not True or '
                         f'False; write filter_empty_gt=True (drop "No finding" images) or False (keep them)')
    size = cfg.get('min_size', 0)
    if isinstance(size, bool) or not isinstance(size, numbers.Real) or not size >= 0:
        raise InputError(f'VinBigDataset: filter_cfg.min_size={size!r} is not a number >= 0; write the smallest '
                         f'width/height kept, in pixels, e.g. min_size=32 (0 keeps every image)')


def check_fold(fold) -> None:
    """A fold is an integer: '1' (a string) would match no fold of the folds file."""
    if fold is not None and (isinstance(fold, bool) or not isinstance(fold, numbers.Integral)):
        raise InputError(f'VinBigDataset: fold={fold!r} is a {type(fold).__name__}, not an integer; write fold='
                         f'{fold if isinstance(fold, str) and fold.strip().lstrip("-").isdigit() else "K"} without '
                         f'quotes (or pass --fold K)')


def check_sizes_agree(sizes: Dict[str, Tuple[int, int]], sizes_from: str, other: Dict[str, Tuple[int, int]],
                      other_from: str) -> None:
    """Two sources of original sizes (train.csv's width/height and a sizes file) must agree where both speak:
    otherwise every box of the image is scaled by the wrong factor."""
    differ = [i for i, wh in other.items() if i in sizes and tuple(sizes[i]) != tuple(wh)]
    if differ:
        i = differ[0]
        raise AnnotationError(f'{len(differ)} image(s) have another original size in {sizes_from} (width,height) '
                              f'than in {other_from}, e.g. {i}: {tuple(sizes[i])} vs {tuple(other[i])} (width, '
                              f'height); correct the wrong file, or drop the width,height columns of {sizes_from} '
                              f'(or the sizes file) so that one source remains')


def sizes_file_candidates(img_dir: str) -> List[str]:
    """Where a sizes file is found by its usual name: ``meta.csv`` in the image folder (tools/prepare_data.py),
    then ``<folder>_meta.csv`` beside the folder (``train_meta.csv`` / ``test_meta.csv`` of the 1024 px PNG set),
    then ``<folder>.csv`` beside it when that holds only sizes (``test.csv`` of the PNG set whose train.csv carries
    width,height)."""
    folder = osp.normpath(img_dir)
    named = osp.join(osp.dirname(folder), f'{osp.basename(folder)}.csv')
    return [osp.join(folder, META_FILE), osp.join(osp.dirname(folder), f'{osp.basename(folder)}_meta.csv')] + \
        ([named] if is_sizes_file(named) else [])


def group_findings(ann: pd.DataFrame, no_finding_id: int = len(METAINFO['classes'])) -> Dict[str, Findings]:
    """image_id -> the boxes, labels and readers of its finding rows ("No finding" rows left out).

    One factorize + one stable sort + slicing: linear in the rows, no DataFrame per image."""
    ann = ann[ann['class_id'] != no_finding_id]
    codes, uniques = pd.factorize(ann['image_id'])
    order = np.argsort(codes, kind='stable')
    codes = codes[order]
    boxes = ann[BOX_COLUMNS].to_numpy(np.float64)[order]
    labels = ann['class_id'].to_numpy(np.int64)[order]
    readers = ann['rad_id'].astype(str).to_numpy()[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]) if len(codes) else np.zeros(0, np.int64)
    ends = np.r_[starts[1:], len(codes)].astype(np.int64)
    return {uniques[codes[s]]: (boxes[s:e], labels[s:e], readers[s:e]) for s, e in zip(starts, ends)}


def index_images(folder: str, suffix: Optional[str] = None) -> Dict[str, str]:
    """image_id (file stem) -> file name, from one listing of ``folder``."""
    require_path(folder, f'the images go there; {GET_DATA}; or convert DICOMs with '
                         f'`python tools/prepare_data.py --src DICOM_FOLDER --out {folder}`', folder=True)
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
    """(width, height) of an image file without decoding its pixels (a PNG: from its first 24 bytes)."""
    if is_dicom_path(path):
        header = read_dicom_header(path)
        return header['columns'], header['rows']
    with open(path, 'rb') as f:
        head = f.read(24)
    if head[:8] == b'\x89PNG\r\n\x1a\n' and head[12:16] == b'IHDR':
        return struct.unpack('>II', head[16:24])
    try:
        with Image.open(path) as img:
            return img.size
    except (OSError, ValueError, Image.DecompressionBombError) as exc:  # UnidentifiedImageError is an OSError
        raise ImageReadError(path, f'not a readable image ({type(exc).__name__}: {exc}); replace the file or '
                             f'remove it (tools/check_data.py CONFIG lists every such file)') from None


def _file_sizes(paths: List[str]) -> List[Tuple[int, int]]:
    """:func:`_file_size` of many files, in chunks over a few threads (the reads wait on storage, e.g. a
    network disk; one task per file would cost more than the reads)."""
    def size_or_error(path):
        try:
            return _file_size(path)
        except ImageReadError as exc:
            return exc

    chunks = [paths[i:i + 512] for i in range(0, len(paths), 512)]
    with ThreadPoolExecutor(8) as pool:
        sizes = [size for chunk in pool.map(lambda c: [size_or_error(p) for p in c], chunks) for size in chunk]
    failed = [s for s in sizes if isinstance(s, ImageReadError)]
    if failed:  # all of them named at once, not one per run
        more = (f' (and {len(failed) - 1} more unreadable: {", ".join(e.path for e in failed[1:6])}'
                f'{", ..." if len(failed) > 6 else ""})' if len(failed) > 1 else '')
        raise type(failed[0])(failed[0].path, failed[0].reason + more)
    return sizes


@DATASETS.register_module()
class VinBigDataset(BaseDetDataset):
    """VinBigData chest X-ray detection dataset.

    Args:
        ann_file: Kaggle ``train.csv`` (boxes in original pixels; may carry ``width``/``height`` columns as in
            the 1024 px PNG version), a CSV with just ``image_id`` (e.g. sample_submission.csv), or '' to list
            every image of the image folder (test mode).
        data_prefix: ``dict(img='train/')``: the folder with ``<image_id>.dicom`` or ``<image_id>.png``.
        meta_file: CSV of original sizes for PNGs: ``image_id,width,height`` or ``image_id,dim0,dim1`` (rows,
            columns). Relative to ``data_root``, or absolute. By default found by its usual name (see
            :func:`sizes_file_candidates`). Not needed for DICOMs or when ann_file has width/height.
        img_suffix: restrict to one file type (e.g. '.png'); by default any of ``IMAGE_SUFFIXES``.
        fusion: how the readers' boxes become training targets: ``dict(type='wbf'|'nms'|'none',
            iou_thr=0.4, skip_box_thr=0.0)``.
        filter_cfg: MMDetection's ``dict(filter_empty_gt=False, min_size=0)``, applied to training only (never
            with ``test_mode``): ``filter_empty_gt=True`` drops the "No finding" images (70% of the data; kept as
            negatives by default), ``min_size`` drops images narrower or lower than that (original pixels).
            ``keep_negatives=`` of earlier versions is refused with the replacement named.
        folds_file, fold, split: with a CSV of image_id, fold (relative to ``data_root``, or absolute, e.g.
            outside a read-only data folder): ``split='train'`` keeps every fold but ``fold``, ``split='val'``
            keeps only ``fold``.
        invalid_boxes: 'error' (default) or 'skip' for inverted/empty boxes (counted and logged).
        missing_images: 'error' (default) or 'skip' for annotated images without a file (counted and logged).
        missing_ann_file: 'error' (default), or 'list_images' to use every image of the folder when ``ann_file``
            does not exist (the test images of a download without sample_submission.csv; logged).
        missing_folds_file: 'error' (default), or 'make' to make the folds in memory when ``folds_file`` does not
            exist (5 folds, seed 42, as tools/make_folds.py writes them; logged with the command that keeps them).
        class_set: 'kaggle14' (default: Kaggle's 14 classes) or 'vindr22' (the 22 local labels of the PhysioNet
            release); labels outside the set are dropped and counted in the load log line. "No finding" is the
            last id (14 or 22).
    """

    METAINFO = METAINFO

    def __init__(self, *args, meta_file: Optional[str] = None, img_suffix: Optional[str] = None,
                 fusion: Optional[dict] = None, folds_file: Optional[str] = None,
                 fold: Optional[int] = None, split: str = 'train', invalid_boxes: str = 'error',
                 missing_images: str = 'error', missing_ann_file: str = 'error',
                 missing_folds_file: str = 'error', class_set: str = DEFAULT_CLASS_SET, **kwargs) -> None:
        self.classes, self.class_set = classes_of_set(class_set), class_set
        if class_set != DEFAULT_CLASS_SET and not kwargs.get('metainfo'):
            kwargs['metainfo'] = dict(classes=self.classes, palette=palette_for(self.classes))
        check_filter_cfg(kwargs)
        check_filter_types(kwargs.get('filter_cfg'))
        check_fold(fold)
        fusion = fusion_options(fusion)
        if split not in ('train', 'val'):
            raise ValueError(f"split must be 'train' or 'val', got {split!r}")
        if (folds_file is None) != (fold is None):
            raise ValueError('folds_file and fold go together: give both or neither')
        if missing_images not in ('error', 'skip'):
            raise ValueError(f"missing_images must be 'error' or 'skip', got {missing_images!r}")
        if missing_folds_file not in ('error', 'make'):
            raise ValueError(f"missing_folds_file must be 'error' or 'make', got {missing_folds_file!r}")
        self.missing_folds_file = missing_folds_file
        if missing_ann_file not in ('error', 'list_images'):
            raise ValueError(f"missing_ann_file must be 'error' or 'list_images', got {missing_ann_file!r}")
        data_root = kwargs.get('data_root') or ''
        self.meta_file = osp.join(data_root, meta_file) if meta_file else None
        self.folds_file = osp.join(data_root, folds_file) if folds_file else None
        self.img_suffix, self.fusion = img_suffix, fusion
        self.fold, self.split = fold, split
        self.invalid_boxes, self.missing_images = invalid_boxes, missing_images
        self.missing_ann_file = missing_ann_file
        super().__init__(*args, **kwargs)

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        log = RepairLog()
        img_dir = self.data_prefix.get('img', '') or self.data_root or '.'
        files = index_images(img_dir, self.img_suffix)
        ann, image_ids = self._read_image_ids(files, log, img_dir)
        image_ids = self._select_fold(image_ids, ann)
        image_ids = self._check_files(image_ids, files, img_dir, log)
        paths = {i: osp.join(img_dir, files[i]) for i in image_ids}
        sizes = self._original_sizes(image_ids, paths, ann, img_dir)
        loaded = self._loaded_sizes(image_ids, paths, sizes)

        findings: Dict[str, Findings] = {}
        if ann is not None:
            ann = ann[ann['image_id'].isin(set(image_ids))]
            ann = clip_boxes(ann, sizes, self.invalid_boxes, log, self.ann_file)
            findings = group_findings(ann, len(self.classes))
            fusion = self._fusion_for(ann)
        else:
            fusion = self.fusion
        data_list, n_raw, n_fused = [], 0, 0
        for img_id in image_ids:
            (ow, oh), (w, h) = sizes[img_id], loaded[img_id]
            info = dict(img_id=img_id, img_path=paths[img_id], width=w, height=h, original_size=(ow, oh),
                        instances=[], reader_instances=[])
            if img_id in findings:
                boxes, labels, readers = findings[img_id]
                fused, fused_labels = fuse_readers(boxes, labels, readers, ow, oh, fusion['type'],
                                                   fusion['iou_thr'], fusion['skip_box_thr'])
                scale = np.array([w / ow, h / oh, w / ow, h / oh])
                info['instances'] = [dict(bbox=b, bbox_label=lab, ignore_flag=0)
                                     for b, lab in zip((fused * scale).tolist(), fused_labels.tolist())]
                info['reader_instances'] = [dict(bbox=b, bbox_label=lab, rad_id=r) for b, lab, r in
                                            zip((boxes * scale).tolist(), labels.tolist(), readers.tolist())]
                n_raw += len(boxes)
                n_fused += len(fused)
            data_list.append(info)

        n_pos = sum(1 for d in data_list if d['instances'])
        what = (f'{n_pos} with findings, {len(data_list) - n_pos} "No finding"; {n_raw} reader boxes -> '
                f'{n_fused} targets by {fusion["type"]}' if ann is not None else 'unlabelled')
        fold = f', fold {self.fold} {self.split}' if self.fold is not None else ''
        dropped = sum(n for kind, n in log.counts.items() if kind.startswith('labels outside'))
        classes = (f'; class set {self.class_set} ({len(self.classes)} classes): {dropped} label rows outside it '
                   f'dropped' if ann is not None else '')
        print_log(f'VinBigDataset {self.ann_file or img_dir}{fold}: {len(data_list)} images ({what}){classes}; '
                  f'repairs: {log.summary()}', logger='current')
        self.repair_log = log
        return data_list

    def _fusion_for(self, ann: pd.DataFrame) -> dict:
        """The configured fusion, except on consensus labels (one reader, or none, per image: the PhysioNet test
        set): there is nothing to fuse, and fusing one reader's boxes would merge distinct findings. Logged."""
        readers = ann.groupby('image_id')['rad_id'].nunique()
        if self.fusion['type'] == 'none' or len(readers) == 0 or readers.max() > 1:
            return self.fusion
        print_log(f'VinBigDataset {self.ann_file}: consensus labels (one reader per image): boxes used as they are, '
                  f'no {self.fusion["type"]} fusion', logger='current')
        return dict(self.fusion, type='none')

    def _read_image_ids(self, files: Dict[str, str], log: RepairLog,
                        img_dir: str = '') -> Tuple[Optional[pd.DataFrame], List[str]]:
        """The annotations (None if unlabelled) and the image ids, in file order."""
        if self.ann_file and not osp.isfile(self.ann_file):
            if self.missing_ann_file == 'error':
                require_path(self.ann_file, GET_DATA)
            print_log(f'VinBigDataset: {self.ann_file} does not exist; using every image of the folder '
                      f'({len(files)} images)', logger='current')
            return None, sorted(files)
        if self.ann_file and has_boxes(self.ann_file):
            ann = read_annotations(self.ann_file, self.invalid_boxes, log, self.classes)
            return ann, list(pd.unique(ann['image_id']))
        if not self.test_mode or self.folds_file:
            # training (or validating on a fold of it) on images without labels learns and scores nothing
            what = 'training' if not self.test_mode else 'validation'
            raise AnnotationError(
                f'{self.ann_file or img_dir}: no label columns ({", ".join(LABEL_COLUMNS)}), but {what} needs '
                f'labels: give {_KAGGLE_FORMAT_HINT}; a list of unlabelled images can only be tested '
                f'(tools/test.py on the test loader)')
        return None, read_image_list(self.ann_file) if self.ann_file else sorted(files)

    def _folds(self, ann: Optional[pd.DataFrame]) -> Dict[str, int]:
        """image_id -> fold: the folds file, or (``missing_folds_file='make'``) folds made in memory."""
        if osp.isfile(self.folds_file) or self.missing_folds_file == 'error' or ann is None:
            return read_folds(self.folds_file, self.ann_file or 'train.csv')
        folds = make_folds(ann, seed=42, no_finding_id=len(self.classes))
        print_log(f'VinBigDataset: {self.folds_file} does not exist: {folds["fold"].nunique()} folds made in memory '
                  f'(seed 42, the same every run); to keep them in a file: '
                  f'`{make_folds_command(self.ann_file, "FOLDS.csv")}`, then --folds-file FOLDS.csv',
                  logger='current')
        return dict(zip(folds['image_id'], folds['fold'].astype(int)))

    def _select_fold(self, image_ids: List[str], ann: Optional[pd.DataFrame] = None) -> List[str]:
        if self.folds_file is None:
            return image_ids
        fold_of = self._folds(ann)
        unassigned = [i for i in image_ids if i not in fold_of]
        if unassigned:
            raise AnnotationError(f'{self.folds_file}: {len(unassigned)} annotated image(s) have no fold, e.g. '
                                  f'{unassigned[:5]}; remake it with '
                                  f'`{make_folds_command(self.ann_file, self.folds_file)}`')
        folds = sorted(set(fold_of.values()))
        if self.fold not in folds:
            raise InputError(f'{self.folds_file}: fold {self.fold} does not exist (folds: {folds}); '
                             f'choose one with --fold')
        keep_val = self.split == 'val'
        return [i for i in image_ids if (fold_of[i] == self.fold) == keep_val]

    def _check_files(self, image_ids: List[str], files: Dict[str, str], img_dir: str,
                     log: RepairLog) -> List[str]:
        missing = [i for i in image_ids if i not in files]
        if missing and self.missing_images == 'error':
            raise InputError(
                f'{len(missing)} of {len(image_ids)} images listed in {self.ann_file} have no file in {img_dir}, '
                f'e.g. {missing[:5]} (set missing_images="skip" to train without them)')
        log.add('annotated images without a file skipped', len(missing), missing)
        return [i for i in image_ids if i in files]

    def _sizes_file(self, img_dir: str) -> Optional[str]:
        """The explicit meta_file (which must exist), else the first sizes file found by its usual name."""
        if self.meta_file:
            require_path(self.meta_file, 'give the CSV of original sizes of your download (train_meta.csv / '
                         'test_meta.csv of the 1024 px PNG set), or convert the DICOMs with `python '
                         f'tools/prepare_data.py --src DICOM_FOLDER --out {img_dir}`, which writes {META_FILE}')
            return self.meta_file
        return next((f for f in sizes_file_candidates(img_dir) if osp.isfile(f)), None)

    def _original_sizes(self, image_ids, paths, ann, img_dir) -> Dict[str, Tuple[int, int]]:
        """Original (DICOM) width/height: from the CSV, the sizes file, or the DICOM header."""
        sizes: Dict[str, Tuple[int, int]] = {}
        if ann is not None and {'width', 'height'} <= set(ann.columns):
            sizes.update(sizes_from_frame(ann[['image_id', 'width', 'height', 'line']], self.ann_file))
        sizes_file = self._sizes_file(img_dir)
        if sizes_file:
            from_file = read_sizes(sizes_file)
            check_sizes_agree(sizes, self.ann_file, from_file, sizes_file)
            sizes.update({k: v for k, v in from_file.items() if k not in sizes})
        todo = [i for i in image_ids if i not in sizes]
        not_dicom = [i for i in todo if not is_dicom_path(paths[i])]
        if not_dicom:
            looked = f'{sizes_file} lacks them' if sizes_file else f'none of {sizes_file_candidates(img_dir)} exists'
            raise AnnotationError(
                f'{len(not_dicom)} non-DICOM image(s) without an original size, e.g. {paths[not_dicom[0]]} '
                f'({looked}): boxes and submissions are in original DICOM pixels, so give the sizes: meta_file= '
                f'(--meta-file) with image_id,width,height or image_id,dim0,dim1, width/height columns in '
                f'{self.ann_file or "the annotation CSV"}, or convert the DICOMs with `python tools/prepare_data.py '
                f'--src DICOM_FOLDER --out {img_dir}`, which writes {META_FILE}')
        sizes.update(zip(todo, _file_sizes([paths[i] for i in todo])))
        return sizes

    def _loaded_sizes(self, image_ids, paths, sizes) -> Dict[str, Tuple[int, int]]:
        """Size of the file the pipeline will load (DICOM: the original; PNG: read from its header)."""
        resized = [i for i in image_ids if not is_dicom_path(paths[i])]
        loaded = {i: sizes[i] for i in image_ids}
        loaded.update(zip(resized, _file_sizes([paths[i] for i in resized])))
        return loaded

    # ------------------------------------------------------------------ filtering
    def filter_data(self) -> List[dict]:
        """MMDetection's ``filter_cfg`` (as ``CocoDataset.filter_data``): in training only, drop the images without
        boxes ("No finding") when ``filter_empty_gt``, and those smaller than ``min_size``; logged."""
        if self.test_mode:
            return self.data_list
        fold = f' fold {self.fold} {self.split}' if self.fold is not None else ''
        if not self.data_list:
            raise InputError(f'VinBigDataset {self.ann_file}{fold}: no training images left'
                             f'{" after the fold selection of " + self.folds_file if self.folds_file else ""}; '
                             f'make folds with more than one fold (tools/make_folds.py --n-splits) or choose '
                             f'another --fold')
        if not self.filter_cfg:
            return self.data_list
        empty_out, min_size = self.filter_cfg.get('filter_empty_gt', False), self.filter_cfg.get('min_size', 0)
        kept = [d for d in self.data_list
                if (d['instances'] or not empty_out) and min(d['width'], d['height']) >= min_size]
        if not kept:
            raise InputError(f'VinBigDataset {self.ann_file}{fold}: filter_cfg={dict(self.filter_cfg)} drops '
                             f'all {len(self.data_list)} training images ("No finding" or smaller than min_size); '
                             f'lower min_size or set filter_empty_gt=False')
        if len(kept) < len(self.data_list):
            print_log(f'VinBigDataset: filter_cfg={self.filter_cfg} dropped {len(self.data_list) - len(kept)} '
                      f'images ("No finding" or small), {len(kept)} left', logger='current')
        return kept

    def get_cat_ids(self, idx: int) -> List[int]:
        return [inst['bbox_label'] for inst in self.get_data_info(idx)['instances']]
