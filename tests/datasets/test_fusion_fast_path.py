"""fuse_readers sends only classes with two or more boxes through ensemble-boxes: same result as fusing all."""
import warnings

import numpy as np
import pytest

from vinbig_mmdet.datasets.fusion import fuse_boxes, fuse_readers


@pytest.mark.parametrize('method', ['wbf', 'nms', 'none'])
def test_single_box_classes_skip_fusion_without_changing_the_result(method):
    rng = np.random.default_rng(1)
    w, h = 1000, 900
    checked = 0
    for _ in range(300):
        n = int(rng.integers(1, 10))
        boxes = np.sort(rng.uniform(-50, 1100, (n, 2, 2)), axis=1).reshape(n, 4)[:, [0, 2, 1, 3]]
        inside = np.clip(boxes, 0, [w, h, w, h])
        boxes = boxes[(inside[:, 2] > inside[:, 0]) & (inside[:, 3] > inside[:, 1])]  # partly outside is fine
        labels, readers = rng.integers(0, 4, len(boxes)), rng.choice(['R8', 'R9', 'R10'], len(boxes))
        if not len(boxes):
            continue
        fast = fuse_readers(boxes, labels, readers, w, h, method)
        groups = [readers == r for r in dict.fromkeys(readers.tolist())]
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            ref_boxes, _, ref_labels = fuse_boxes([boxes[g] for g in groups], [np.ones(g.sum()) for g in groups],
                                                  [labels[g] for g in groups], w, h, method)
        assert sorted(zip(fast[1].tolist(), np.round(fast[0], 6).tolist())) == \
            sorted(zip(ref_labels.tolist(), np.round(ref_boxes, 6).tolist()))
        checked += 1
    assert checked > 200
