from .classifier import AbnormalityClassifier
from .tta import VinBigTTAModel

__all__ = ['AbnormalityClassifier', 'VinBigTTAModel']
