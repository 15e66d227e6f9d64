"""vinbig-mmdet: MMDetection for the VinBigData chest X-ray abnormality detection task.

Importing the package registers its dataset, transforms, metric and hooks in MMDetection's registries (this is
what ``custom_imports = dict(imports=['vinbig_mmdet'])`` in the configs does) and applies the compatibility
fixes in :mod:`vinbig_mmdet.compat`.
"""
# compat (first: it must run before any checkpoint is loaded), then the modules that register in the registries
from . import compat, datasets, engine, evaluation, models  # noqa: F401
from .classes import ALL_CLASSES, CLASSES, METAINFO, NO_FINDING_ID, PALETTE

__version__ = '0.1.0'
__all__ = ['ALL_CLASSES', 'CLASSES', 'METAINFO', 'NO_FINDING_ID', 'PALETTE', '__version__']
