"""Labels of boxes that share a corner do not overlap: a reader of the picture can tell which box is which."""
import numpy as np

from vinbig_mmdet.visualization import draw_detections, place_labels
from vinbig_mmdet.visualization.draw import label_extent


def rects(texts, positions, font):
    return [(x, y, x + label_extent(t, font)[0], y + label_extent(t, font)[1]) for t, (x, y) in zip(texts, positions)]


def disjoint(boxes) -> bool:
    return all(not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
               for i, a in enumerate(boxes) for b in boxes[i + 1:])


def test_labels_at_one_corner_are_stacked_apart():
    texts = ['ILD 0.81', 'Other lesion 0.64', 'Nodule/Mass 0.30']
    pos = place_labels(texts, np.array([[100, 100]] * 3), 12, (1000, 1000))
    assert pos[0].tolist() == [100, 100]  # the first keeps its place
    assert disjoint(rects(texts, pos, 12))


def test_labels_at_the_bottom_edge_move_up_inside_the_image():
    texts = ['ILD', 'Other lesion']
    pos = place_labels(texts, np.array([[0, 960], [0, 960]]), 12, (400, 1000))
    assert disjoint(rects(texts, pos, 12)) and (pos[:, 1] + label_extent('Other lesion', 12)[1] <= 1000 + 1e-6).all()


def test_draw_detections_separates_labels_of_boxes_sharing_a_corner(monkeypatch):
    from mmdet.visualization import DetLocalVisualizer
    drawn = []
    original = DetLocalVisualizer.draw_texts

    def spy(self, texts, positions, *args, font_sizes=None, **kwargs):
        drawn.append((list(texts), np.asarray(positions, float).reshape(-1, 2), font_sizes))
        return original(self, texts, positions, *args, font_sizes=font_sizes, **kwargs)

    monkeypatch.setattr(DetLocalVisualizer, 'draw_texts', spy)
    dets = [dict(class_id=5, class_name='ILD', score=0.8, box=[200, 200, 600, 700]),
            dict(class_id=9, class_name='Other lesion', score=0.6, box=[200, 200, 500, 500])]
    img = draw_detections(np.full((1000, 1000), 90, np.uint8), dets)
    assert img.shape == (1000, 1000, 3)
    texts, positions, font = drawn[-1]
    assert disjoint(rects(texts, positions, font))
