from .annotations import AnnotationError, read_annotations
from .folds import make_folds
from .fusion import fuse_boxes, fuse_readers
from .image_label import PackAbnormalityInputs, is_abnormal
from .transforms import LoadDicomFromFile
from .vinbig import VinBigDataset

__all__ = ['AnnotationError', 'LoadDicomFromFile', 'PackAbnormalityInputs', 'VinBigDataset', 'fuse_boxes',
           'fuse_readers', 'is_abnormal', 'make_folds', 'read_annotations']
