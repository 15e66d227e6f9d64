# TOOD R50-FPN (task-aligned one-stage detector, box AP 42.4 on COCO in 12 epochs) fine-tuned from MMDetection's
# COCO model. A one-stage detector beside the two-stage ones, for ensembles (the 1st place fused Faster R-CNN,
# YOLOv5 and EfficientDet with WBF). Same data, augmentations and schedule as
# faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py; needs only mmcv's compiled ops (deform_conv2d).
# The class layer (tood_cls) does not fit 14 classes and is not loaded (logged).
# Offline: --cfg-options load_from=/models/tood_r50_fpn_1x_coco_20211210_103425-20e20746.pth
_base_ = [
    './_base_/models/tood_r50_fpn.py',
    './_base_/vinbig_finetune_24e.py',
]
model = dict(
    backbone=dict(init_cfg=None),  # no ImageNet download: load_from replaces these weights anyway
    bbox_head=dict(num_classes=14),
    test_cfg=dict(score_thr=0.01, max_per_img=100))
load_from = ('https://download.openmmlab.com/mmdetection/v2.0/tood/tood_r50_fpn_1x_coco/'
             'tood_r50_fpn_1x_coco_20211210_103425-20e20746.pth')
