"""MMDetection's DetVisualizationHook for radiographs (``tools/test.py --show-dir / --show``)."""
import os.path as osp
from typing import Optional, Sequence

from mmdet.engine.hooks import DetVisualizationHook
from mmdet.registry import HOOKS
from mmdet.structures import DetDataSample
from mmengine.utils import mkdir_or_exist

from ...io import read_image
from ...visualization import radiograph_rgb


@HOOKS.register_module()
class RadiographVisualizationHook(DetVisualizationHook):
    """DetVisualizationHook with the image read replaced: mmcv cannot read DICOMs (nor window 16-bit PNGs as the
    project does), so each image is read with the project's reader. Drawing, ``show``, ``wait_time``, ``interval``
    and ``score_thr`` are MMDetection's; test images are written as ``<test_out_dir>/<img_id>.png`` (a relative
    ``test_out_dir`` lies under ``<work_dir>/<timestamp>/``, as in MMDetection)."""

    def read_image(self, img_path: str):
        return radiograph_rgb(read_image(img_path))

    def _add(self, name: str, sample: DetDataSample, step: int, out_file: Optional[str] = None) -> None:
        self._visualizer.add_datasample(name, self.read_image(sample.img_path), data_sample=sample,
                                        show=self.show, wait_time=self.wait_time, pred_score_thr=self.score_thr,
                                        out_file=out_file, step=step)

    def after_val_iter(self, runner, batch_idx: int, data_batch: dict,
                       outputs: Sequence[DetDataSample]) -> None:
        total_curr_iter = runner.iter + batch_idx
        if self.draw and total_curr_iter % self.interval == 0:  # the first image of the batch, as upstream
            self._add(osp.basename(outputs[0].img_path) if self.show else 'val_img', outputs[0], total_curr_iter)

    def before_test(self, runner) -> None:
        if self.draw and self.test_out_dir is not None:  # joined once (upstream joins on every iteration)
            self.test_out_dir = osp.join(runner.work_dir, runner.timestamp, self.test_out_dir)
            mkdir_or_exist(self.test_out_dir)

    def after_test_iter(self, runner, batch_idx: int, data_batch: dict,
                        outputs: Sequence[DetDataSample]) -> None:
        if not self.draw:
            return
        for sample in outputs:
            self._test_index += 1
            out_file = None if self.test_out_dir is None else osp.join(self.test_out_dir, f'{sample.img_id}.png')
            self._add(osp.basename(sample.img_path) if self.show else 'test_img', sample, self._test_index,
                      out_file)
