"""The PR curves saved from a kaggle_map result (figure title and pr_curves.json) name the IoU it was scored at."""
import json

import numpy as np

from vinbig_mmdet.evaluation.kaggle_map import confusion_summary, kaggle_map
from vinbig_mmdet.evaluation.plots import save_evaluation


def test_the_saved_curves_carry_the_iou_they_were_scored_at(tmp_path):
    truth = {'a': (np.array([[10., 10., 60., 60.]]), np.array([3]))}
    # overlaps the truth with IoU 0.47: a hit at the competition's 0.4, a miss at 0.5
    preds = {'a': (np.array([[10., 10., 60., 33.5]]), np.array([0.9]), np.array([3]))}
    for iou_thr, ap in ((0.4, 1.0), (0.5, 0.0)):
        result = kaggle_map(preds, truth, iou_thr)
        assert result['iou_thr'] == iou_thr and result['AP'][3] == ap
        out = tmp_path / str(iou_thr)
        saved = save_evaluation(result, confusion_summary(preds, truth, iou_thr), str(out))
        assert sorted(p.rsplit('/', 1)[1] for p in saved) == ['confusion.csv', 'pr_curves.json', 'pr_curves.png']
        curves = json.loads((out / 'pr_curves.json').read_text())
        assert curves['iou_thr'] == iou_thr and curves['classes']['Cardiomegaly']['ap'] == ap
