from .annotations import AnnotationError, read_annotations
from .folds import make_folds
from .fusion import fuse_boxes, fuse_readers
from .transforms import LoadDicomFromFile
from .vinbig import VinBigDataset

__all__ = ['AnnotationError', 'LoadDicomFromFile', 'VinBigDataset', 'fuse_boxes', 'fuse_readers',
           'make_folds', 'read_annotations']
