"""Image loading for radiographs: DICOMs through the project's one reader, other files as mmcv reads them.

The bad-image policy: an image that cannot be read stops the run with one :class:`ImageReadError` naming the file
(raised the same way from DataLoader worker processes), rather than being skipped: a skipped image would silently
change what is trained or scored. ``tools/check_data.py CONFIG`` decodes every image of a config's data sets once
before a run and lists all the unreadable ones.
"""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS

from ..io import ImageReadError, is_dicom_path, read_dicom

BAD_IMAGE_FIX = ('the run stops at the first unreadable image: list them all with tools/check_data.py CONFIG, then '
                 'replace or remove them')


@TRANSFORMS.register_module()
class LoadDicomFromFile(LoadImageFromFile):
    """Load a DICOM (any of ``DICOM_SUFFIXES``) with :func:`vinbig_mmdet.io.read_dicom`, anything else like
    ``LoadImageFromFile``, so one pipeline serves the original DICOMs and the PNG version.

    Sets the keys ``LoadImageFromFile`` sets: ``img`` (H x W x 3 uint8, or float32 with ``to_float32``),
    ``img_shape`` and ``ori_shape``.

    Args:
        voi_lut: apply the DICOM VOI LUT / window (True), or stretch the raw modality values (False).
    """

    def __init__(self, voi_lut: bool = True, **kwargs) -> None:
        super().__init__(**kwargs)
        self.voi_lut = voi_lut

    def transform(self, results: dict) -> Optional[dict]:
        path = results['img_path']
        try:
            if not is_dicom_path(path):
                try:
                    return super().transform(results)
                except Exception as exc:  # noqa: BLE001  (mmcv: missing file, undecodable bytes, an assertion)
                    raise ImageReadError(path, f'not a readable image ({type(exc).__name__}: {exc})') from None
            gray = read_dicom(path, voi_lut=self.voi_lut)
        except FileNotFoundError:
            raise ImageReadError(path, f'no such file (removed after the data set was listed?); {BAD_IMAGE_FIX}') \
                from None
        except ImageReadError as exc:
            raise type(exc)(exc.path, f'{exc.reason}; {BAD_IMAGE_FIX}') from None
        img = np.repeat(gray[:, :, None], 3, axis=2) if self.color_type != 'grayscale' else gray
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(voi_lut={self.voi_lut}, to_float32={self.to_float32})'
