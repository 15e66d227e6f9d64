"""The image-level label of the normal/abnormal classifier, and the transform that packs it with the image."""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmdet.registry import TRANSFORMS
from mmengine.structures import BaseDataElement


def is_abnormal(data_info: dict) -> bool:
    """The classifier's label: abnormal when at least one reader drew a finding (a box of class 0-13 in
    train.csv), normal when every reader said "No finding". In Kaggle's train.csv the two never conflict ("No
    finding" is unanimous); where readers disagree, one reader's finding makes the image abnormal."""
    return bool(data_info.get('reader_instances') or data_info.get('instances'))


@TRANSFORMS.register_module()
class PackAbnormalityInputs(BaseTransform):
    """Pack the image (C x H x W uint8 tensor) and, with ``with_label``, its normal (0) / abnormal (1) label
    (:func:`is_abnormal`) for :class:`vinbig_mmdet.models.AbnormalityClassifier`.

    Use ``with_label=False`` for unlabelled images (Kaggle's test set): their data info has no findings, which
    must not read as "normal".
    """

    def __init__(self, with_label: bool = True,
                 meta_keys: Sequence[str] = ('img_id', 'img_path', 'ori_shape', 'img_shape')) -> None:
        self.with_label = with_label
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim == 2:
            img = img[..., None]
        inputs = torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = BaseDataElement(metainfo={k: results[k] for k in self.meta_keys if k in results})
        if self.with_label:
            sample.gt_label = torch.tensor(int(is_abnormal(results)))
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(with_label={self.with_label}, meta_keys={self.meta_keys})'
