"""The image-level normal/abnormal classifier behind the 2-class filter (``--abnormal-probs``)."""
from typing import Dict, List, Optional, Union

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModel
from torch import nn


@MODELS.register_module()
class AbnormalityClassifier(BaseModel):
    """Normal vs abnormal per image: a backbone from MMDetection's registry (ResNet, ResNeXt, RegNet, EfficientNet,
    Swin, ...), global average pooling of its last output and one logit, trained with binary cross-entropy.

    Args:
        backbone: backbone config; its last output is pooled.
        data_preprocessor: e.g. ``dict(type='ImgDataPreprocessor', mean=..., std=..., bgr_to_rgb=True)``.
        in_channels: channels of the backbone's last output; by default the backbone's ``feat_dim`` (ResNet family).
        dropout: dropout before the logit.

    ``mode='loss'`` takes ``gt_label`` (0/1) from the data samples (:class:`PackAbnormalityInputs`);
    ``mode='predict'`` sets ``pred_score``, the probability that the image is abnormal.
    """

    def __init__(self, backbone: dict, data_preprocessor: Optional[dict] = None, in_channels: Optional[int] = None,
                 dropout: float = 0.0, init_cfg: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        channels = in_channels or getattr(self.backbone, 'feat_dim', None)
        if not channels:
            raise ValueError(f'AbnormalityClassifier: give in_channels (the channels of the last output of '
                             f'{backbone["type"]}), it has no feat_dim')
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, 1)
        nn.init.normal_(self.fc.weight, std=0.01)
        nn.init.zeros_(self.fc.bias)

    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        feats = self.backbone(inputs)
        last = feats[-1] if isinstance(feats, (list, tuple)) else feats
        return F.adaptive_avg_pool2d(last, 1).flatten(1)

    def forward(self, inputs: torch.Tensor, data_samples: Optional[list] = None,
                mode: str = 'tensor') -> Union[torch.Tensor, Dict[str, torch.Tensor], List]:
        logits = self.fc(self.dropout(self.extract_feat(inputs))).squeeze(1)
        if mode == 'tensor':
            return logits
        if mode == 'loss':
            labels = torch.stack([s.gt_label for s in data_samples]).to(logits.device, torch.float32)
            loss = F.binary_cross_entropy_with_logits(logits.float(), labels)
            accuracy = ((logits.detach() > 0).float() == labels).float().mean()
            return dict(loss_cls=loss, accuracy=accuracy)
        if mode == 'predict':
            for sample, prob in zip(data_samples, logits.detach().float().sigmoid()):
                sample.pred_score = prob
            return data_samples
        raise ValueError(f'mode must be "tensor", "loss" or "predict", got {mode!r}')
