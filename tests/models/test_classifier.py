"""The image-level normal/abnormal classifier: its label rule, packing, model, AUC and metric."""
import itertools

import numpy as np
import pandas as pd
import pytest
import torch
from mmdet.registry import MODELS, TRANSFORMS
from mmengine.structures import BaseDataElement

from vinbig_mmdet.datasets.image_label import is_abnormal
from vinbig_mmdet.evaluation.classification import AbnormalityMetric, roc_auc


def pairwise_auc(labels, scores):
    """The definition: share of (positive, negative) pairs ordered correctly, ties counting half."""
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_roc_auc_matches_the_pairwise_definition(rng):
    for _ in range(20):
        n = int(rng.integers(2, 40))
        labels = rng.integers(0, 2, n)
        labels[:2] = [0, 1]
        scores = np.round(rng.random(n), 1)  # many ties
        assert roc_auc(labels, scores) == pytest.approx(pairwise_auc(labels, scores))
    assert roc_auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 1.0
    assert roc_auc([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 0.0
    assert roc_auc([0, 1], [0.5, 0.5]) == 0.5
    assert np.isnan(roc_auc([1, 1, 1], [0.1, 0.5, 0.9]))  # undefined with one class, never a plausible number


def test_label_rule_one_reader_is_enough():
    assert not is_abnormal(dict(instances=[], reader_instances=[]))
    assert is_abnormal(dict(instances=[], reader_instances=[dict(bbox=[0, 0, 5, 5], bbox_label=3, rad_id='R9')]))
    assert is_abnormal(dict(instances=[dict(bbox=[0, 0, 5, 5], bbox_label=3)], reader_instances=[]))


def test_labels_of_the_demo_data_follow_train_csv(demo_root):
    """Through VinBigDataset and the classifier's own pipeline: abnormal exactly where train.csv has a box."""
    from vinbig_mmdet.datasets import VinBigDataset
    ds = VinBigDataset(data_root=str(demo_root), ann_file='train.csv', data_prefix=dict(img='train/'),
                       pipeline=[dict(type='LoadDicomFromFile'), dict(type='Resize', scale=(32, 32), keep_ratio=False),
                                 dict(type='PackAbnormalityInputs')], test_mode=True)
    rows = pd.read_csv(demo_root / 'train.csv', dtype={'image_id': str})
    abnormal = set(rows.loc[rows['class_id'] != 14, 'image_id'])
    labels = {}
    for i in range(len(ds)):
        item = ds[i]
        assert item['inputs'].shape == (3, 32, 32) and item['inputs'].dtype == torch.uint8
        labels[item['data_samples'].img_id] = int(item['data_samples'].gt_label)
    assert labels == {i: int(i in abnormal) for i in set(rows['image_id'])}
    assert 0 < sum(labels.values()) < len(labels)


def test_unlabelled_packing_has_no_label():
    pack = TRANSFORMS.build(dict(type='PackAbnormalityInputs', with_label=False))
    out = pack.transform(dict(img=np.zeros((8, 6, 3), np.uint8), img_id='x', instances=[], reader_instances=[]))
    assert 'gt_label' not in out['data_samples'] and out['data_samples'].img_id == 'x'
    assert out['inputs'].shape == (3, 8, 6)


def tiny_classifier():
    return MODELS.build(dict(
        type='AbnormalityClassifier',
        data_preprocessor=dict(type='ImgDataPreprocessor', mean=[128.] * 3, std=[64.] * 3),
        backbone=dict(type='ResNet', depth=18, out_indices=(3, ), init_cfg=None)))


def batch(labels, size=32, seed=0):
    g = torch.Generator().manual_seed(seed)
    samples = [BaseDataElement(metainfo=dict(img_id=f'img{k}'), gt_label=torch.tensor(y))
               for k, y in enumerate(labels)]
    inputs = [torch.randint(0, 255, (3, size, size), generator=g, dtype=torch.uint8) for _ in labels]
    return dict(inputs=inputs, data_samples=samples)


def test_classifier_loss_learns_and_predict_gives_probabilities():
    torch.manual_seed(0)
    model = tiny_classifier()
    data = batch([0, 1, 0, 1])
    for k in range(4):  # the second pair repeats the first images with the labels reversed: a learnable batch
        data['inputs'][k] = data['inputs'][0] if k % 2 == 0 else torch.full_like(data['inputs'][0], 250)
    optim = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(15):
        packed = model.data_preprocessor(data, True)
        out = model(**packed, mode='loss')
        assert set(out) == {'loss_cls', 'accuracy'}
        optim.zero_grad()
        out['loss_cls'].backward()
        optim.step()
        losses.append(float(out['loss_cls'].detach()))
    assert losses[-1] < losses[0] * 0.5
    with torch.no_grad():  # in training mode: 15 steps leave BatchNorm's running statistics far from the batch's
        predicted = model(**model.data_preprocessor(data, False), mode='predict')
    probs = [float(s.pred_score) for s in predicted]
    assert all(0 <= p <= 1 for p in probs) and probs[1] > probs[0]
    with pytest.raises(ValueError, match='mode'):
        model(**model.data_preprocessor(data, False), mode='nonsense')


def test_backbone_without_feat_dim_needs_in_channels():
    with pytest.raises(ValueError, match='in_channels'):
        MODELS.build(dict(type='AbnormalityClassifier',
                          backbone=dict(type='MobileNetV2', out_indices=(7, ), init_cfg=None)))
    model = MODELS.build(dict(type='AbnormalityClassifier', in_channels=1280,
                              backbone=dict(type='MobileNetV2', out_indices=(7, ), init_cfg=None)))
    assert model(torch.zeros(2, 3, 32, 32)).shape == (2, )


def test_metric_auc_accuracy_and_probability_file(tmp_path):
    out = tmp_path / 'probs.csv'
    metric = AbnormalityMetric(prob_file=str(out))
    samples = [dict(img_id=f'i{k}', pred_score=torch.tensor(p), gt_label=torch.tensor(y))
               for k, (p, y) in enumerate([(0.9, 1), (0.2, 0), (0.7, 0), (0.6, 1)])]
    metric.process({}, samples)
    result = metric.evaluate(4)
    assert result['abnormal/AUC'] == pytest.approx(0.75) and result['abnormal/accuracy'] == pytest.approx(0.75)
    written = pd.read_csv(out, dtype={'image_id': str})
    assert written['image_id'].tolist() == ['i0', 'i1', 'i2', 'i3']
    assert written['prob'].tolist() == pytest.approx([0.9, 0.2, 0.7, 0.6])

    unlabelled = AbnormalityMetric(prob_file=str(tmp_path / 'test.csv'))
    unlabelled.process({}, [dict(img_id='t', pred_score=torch.tensor(0.3))])
    assert unlabelled.evaluate(1) == {}  # nothing to score, but the file is written
    assert (tmp_path / 'test.csv').read_text().splitlines() == ['image_id,prob', 't,0.300000']
