"""VinBigInferencer: MMDetection's DetInferencer idea for radiographs, with boxes in original pixels."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence, Union

import cv2

from ..classes import DRAW_SCORE_THR
from ..io import ImageReadError
from ..io.atomic import atomic_open
from ..visualization import draw_detections
from .inference import collect_inputs, original_sizes, predict_image


class VinBigInferencer:
    """Detect abnormalities on DICOM/PNG/JPEG files or folders with a trained model.

    ``VinBigInferencer(config, checkpoint, device='cpu')(paths)`` returns ``{'predictions': [...],
    'visualization': [...], 'failed': [...]}``: one dict per readable image (``image_id, path, width, height,
    pixels, image_size, detections``; each detection ``class_id, class_name, score, box``), its picture (BGR, if
    ``return_vis``), and one message per unreadable file. Boxes are in original pixels for DICOMs and for resized
    images whose size is known (``meta_file``, or a sizes file found beside them: ``pixels='original'``);
    otherwise in the file's own pixels (``pixels='image'``). With ``out_dir`` every image also gets
    ``<image_id>.json`` and ``<image_id>.png`` there.
    """

    def __init__(self, config, checkpoint: str, device: str = 'cpu', score_thr: float = DRAW_SCORE_THR,
                 allow_partial: bool = False, show_progress: bool = False) -> None:
        from mmdet.utils import register_all_modules

        from ..engine.checkpoint import init_detector_checked
        register_all_modules()
        self.model = init_detector_checked(config, checkpoint, device, allow_partial)
        self.score_thr = score_thr
        self.show_progress = show_progress

    def __call__(self, inputs: Union[str, Sequence[str]], meta_file: Optional[str] = None,
                 out_dir: Optional[str] = None, return_vis: bool = False) -> Dict[str, List]:
        files = collect_inputs([inputs] if isinstance(inputs, str) else inputs)
        sizes = original_sizes(files, meta_file)
        results: Dict[str, List] = dict(predictions=[], visualization=[], failed=[])
        if self.show_progress:
            from ..progress import progress_bar
            files = progress_bar(files, desc='infer', unit='img')
        for path in files:
            image_id = osp.splitext(osp.basename(path))[0]
            try:
                result, gray = predict_image(self.model, path, self.score_thr, sizes.get(image_id))
            except (ImageReadError, FileNotFoundError) as exc:
                results['failed'].append(str(exc))
                continue
            results['predictions'].append(result)
            if return_vis or out_dir:
                picture = draw_detections(gray, result['detections'], box_size=(result['width'], result['height']))
                if return_vis:
                    results['visualization'].append(picture)
                if out_dir:
                    self._save(out_dir, image_id, result, picture)
        return results

    @staticmethod
    def _save(out_dir: str, image_id: str, result: dict, picture) -> None:
        with atomic_open(osp.join(out_dir, image_id + '.json'), 'w') as f:
            json.dump(result, f, indent=2)
        ok, png = cv2.imencode('.png', picture)
        if not ok:
            raise RuntimeError(f'PNG encoding of {image_id} failed')
        with atomic_open(osp.join(out_dir, image_id + '.png'), 'wb') as f:
            f.write(png.tobytes())
