# Faster R-CNN R50-FPN for VinBigData, with the reference recipe:
# SGD lr 0.001, momentum 0.9, weight decay 1e-4, x0.1 every 30 epochs, 100 epochs, total batch 32
# (8 GPUs x 4 images; on fewer GPUs add --auto-scale-lr), 1024 px, ImageNet-pretrained ResNet-50.
# Offline: --cfg-options model.backbone.init_cfg.checkpoint=/path/to/resnet50-0676ba61.pth
_base_ = [
    'mmdet::_base_/models/faster-rcnn_r50_fpn.py',
    'mmdet::_base_/schedules/schedule_1x.py',
    './_base_/vinbig_runtime.py',
    './_base_/vinbig_dataset.py',
    './_base_/vinbig_tta.py',
]

model = dict(
    roi_head=dict(bbox_head=dict(num_classes=14)),
    # Low score threshold: mAP rewards low-confidence true positives; 100 boxes per image at most.
    test_cfg=dict(rcnn=dict(score_thr=0.01, max_per_img=100)))

max_epochs = 100
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[30, 60, 90], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=32)
