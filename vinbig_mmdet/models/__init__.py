from .tta import VinBigTTAModel

__all__ = ['VinBigTTAModel']
