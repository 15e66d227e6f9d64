"""Image loading for radiographs: DICOMs through the project's one reader, other files as mmcv reads them."""
from typing import Optional

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmdet.registry import TRANSFORMS

from ..io import is_dicom_path, read_dicom


@TRANSFORMS.register_module()
class LoadDicomFromFile(LoadImageFromFile):
    """Load a DICOM (``.dicom``/``.dcm``) with :func:`vinbig_mmdet.io.read_dicom`, anything else like
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
        if not is_dicom_path(path):
            return super().transform(results)
        gray = read_dicom(path, voi_lut=self.voi_lut)  # errors name the file
        img = np.repeat(gray[:, :, None], 3, axis=2) if self.color_type != 'grayscale' else gray
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(voi_lut={self.voi_lut}, to_float32={self.to_float32})'
