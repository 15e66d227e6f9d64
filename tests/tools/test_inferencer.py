"""The Python API: VinBigInferencer(config, checkpoint)(paths), results in original pixels (the trained tiny model)."""
from pathlib import Path

import cv2
import numpy as np

from tests.helpers import TINY
from vinbig_mmdet.apis import VinBigInferencer
from vinbig_mmdet.io import read_image


def test_inferencer_gives_original_pixels_for_dicoms_and_resized_pngs(trained, demo_root, tmp_path):
    work, _, _ = trained
    inferencer = VinBigInferencer(TINY, str(work / 'epoch_3.pth'), device='cpu', score_thr=0.0)
    # and the briefly trained model keeps its boxes below the config's 0.05 too: a half-size copy must have a best box
    inferencer.model.roi_head.test_cfg.score_thr = 0.0
    on_folder = inferencer(str(demo_root / 'test'), return_vis=True)
    assert on_folder['failed'] == [] and len(on_folder['visualization']) == len(on_folder['predictions']) > 1
    result = max(on_folder['predictions'], key=lambda r: len(r['detections']))  # an image the model finds on
    assert result['detections'], 'score_thr 0: the model returns its boxes'
    dicom = Path(result['path'])
    gray = read_image(dicom)
    h, w = gray.shape
    assert (result['image_id'], result['width'], result['height'], result['pixels']) == (dicom.stem, w, h, 'original')
    boxes = np.array([d['box'] for d in result['detections']])
    assert (boxes[:, 0] >= 0).all() and (boxes[:, 2] <= w).all() and (boxes[:, 3] <= h).all()

    pngs = tmp_path / 'png'
    pngs.mkdir()
    cv2.imwrite(str(pngs / f'{dicom.stem}.png'), cv2.resize(gray, (w // 2, h // 2), interpolation=cv2.INTER_AREA))
    (pngs / 'broken.png').write_bytes(b'not a png')
    meta = tmp_path / 'sizes.csv'
    meta.write_text(f'image_id,width,height\n{dicom.stem},{w},{h}\n')
    from_png = inferencer([str(pngs)], meta_file=str(meta), out_dir=str(tmp_path / 'out'))
    assert len(from_png['failed']) == 1 and 'broken.png' in from_png['failed'][0]
    (scaled,) = from_png['predictions']
    assert (scaled['width'], scaled['height'], scaled['pixels'], scaled['image_size']) == (w, h, 'original',
                                                                                           [w // 2, h // 2])
    assert sorted(p.name for p in (tmp_path / 'out').iterdir()) == [f'{dicom.stem}.json', f'{dicom.stem}.png']

    # the same PNG without its size: the same detections in the PNG's own pixels, so the original-pixel boxes are
    # exactly those scaled by original / PNG size (what the model draws does not matter, only the mapping)
    unknown_size = inferencer(str(pngs / f'{dicom.stem}.png'))['predictions'][0]
    assert (unknown_size['width'], unknown_size['pixels']) == (w // 2, 'image')
    own = np.array([d['box'] for d in unknown_size['detections']]).reshape(-1, 4)
    original = np.array([d['box'] for d in scaled['detections']]).reshape(-1, 4)
    assert len(own) == len(original) > 0
    expected = np.clip(own * np.array([w / (w // 2), h / (h // 2)] * 2), 0, [w, h, w, h])
    np.testing.assert_allclose(original, expected, atol=0.51)  # boxes are rounded to 0.1 px in each frame
