# Cascade R-CNN R50-FPN fine-tuned from MMDetection's COCO model (20 epochs, box AP 41.0); the 2nd place solution
# used a Cascade R-CNN (DetectoRS) at 1024 px. Same data, augmentations and schedule as
# faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py. The three stages' class layers (fc_cls) do not fit 14 classes
# and are not loaded (logged); their box layers are class-agnostic and load.
# Offline: --cfg-options load_from=/models/cascade_rcnn_r50_fpn_20e_coco_bbox_mAP-0.41_20200504_175131-e9872a90.pth
_base_ = [
    'mmdet::_base_/models/cascade-rcnn_r50_fpn.py',
    './_base_/vinbig_finetune_24e.py',
]
model = dict(
    backbone=dict(init_cfg=None),  # no ImageNet download: load_from replaces these weights anyway
    roi_head=dict(bbox_head=[dict(stage, num_classes=14) for stage in _base_.model.roi_head.bbox_head]),
    test_cfg=dict(rcnn=dict(score_thr=0.01, max_per_img=100)))
load_from = ('https://download.openmmlab.com/mmdetection/v2.0/cascade_rcnn/cascade_rcnn_r50_fpn_20e_coco/'
             'cascade_rcnn_r50_fpn_20e_coco_bbox_mAP-0.41_20200504_175131-e9872a90.pth')
