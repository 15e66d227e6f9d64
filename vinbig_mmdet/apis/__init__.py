"""Python API: ``VinBigInferencer(config, checkpoint)(paths)``, results in original pixels."""
from .inference import collect_inputs, detection_dicts, original_sizes, predict_image
from .inferencer import VinBigInferencer

__all__ = ['VinBigInferencer', 'collect_inputs', 'detection_dicts', 'original_sizes', 'predict_image']
