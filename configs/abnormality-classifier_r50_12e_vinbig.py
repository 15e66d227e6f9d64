# The image-level classifier behind the 2-class filter: normal (every reader said "No finding") vs abnormal (at least
# one reader drew a finding), on the same data, folds, DICOM/PNG reader and resize as the detectors.
# ResNet-50 from ImageNet (as the main config; offline: --cfg-options model.backbone.init_cfg.checkpoint=PATH or
# model.backbone.init_cfg=None), global average pooling, one logit, binary cross-entropy; 1024 px, flip and
# brightness/contrast; SGD lr 0.01 for a total batch of 32 (4 GPUs x 8; other totals: --auto-scale-lr), 12 epochs.
#   python tools/train.py configs/abnormality-classifier_r50_12e_vinbig.py
#   python tools/predict_abnormal.py configs/abnormality-classifier_r50_12e_vinbig.py CKPT --out probs.csv [--val]
_base_ = [
    'mmdet::_base_/default_runtime.py',
    './_base_/vinbig_dataset.py',
]
custom_imports = dict(imports=['vinbig_mmdet'], allow_failed_imports=False)
runner_type = 'VinBigRunner'

model = dict(
    type='AbnormalityClassifier',
    data_preprocessor=dict(type='ImgDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                           bgr_to_rgb=True),
    backbone=dict(type='ResNet', depth=50, num_stages=4, out_indices=(3, ), frozen_stages=-1,
                  norm_cfg=dict(type='BN', requires_grad=True), norm_eval=False, style='pytorch',
                  init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')))

# The detection pipelines without their boxes: the image label is packed instead (PackAbnormalityInputs).
train_pipeline = [t for t in _base_.train_pipeline if t['type'] not in ('LoadAnnotations', 'PackDetInputs')] + [
    dict(type='Brightness', prob=0.5, min_mag=0.8, max_mag=1.2),
    dict(type='Contrast', prob=0.5, min_mag=0.8, max_mag=1.2),
    dict(type='PackAbnormalityInputs'),
]
test_pipeline = [t for t in _base_.test_pipeline if t['type'] not in ('LoadAnnotations', 'PackDetInputs')] + [
    dict(type='PackAbnormalityInputs')]
unlabelled_pipeline = [t for t in _base_.unlabelled_pipeline if t['type'] != 'PackDetInputs'] + [
    dict(type='PackAbnormalityInputs', with_label=False)]

# "No finding" images are the normal class: always kept.
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline, keep_negatives=True))
val_dataloader = dict(batch_size=8, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(batch_size=8, dataset=dict(pipeline=unlabelled_pipeline))
val_evaluator = dict(_delete_=True, type='AbnormalityMetric')
test_evaluator = val_evaluator

max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=200),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[8, 11], gamma=0.1),
]
optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=32)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=3, save_best='abnormal/AUC',
                    rule='greater'))
custom_hooks = [dict(type='NonFiniteLossHook')]
