# A seconds-per-epoch TOOD (ResNet-18, 96 px, no COCO checkpoint) for configs/pipeline/recipe_demo.py.
_base_ = ['../tood_r50_fpn_coco-pretrained_24e_vinbig.py']

img_scale = (96, 96)
max_epochs = 1
load_from = None
model = dict(backbone=dict(depth=18), neck=dict(in_channels=[64, 128, 256, 512]), train_cfg=dict(initial_epoch=1))

train_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]
unlabelled_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.unlabelled_pipeline]
tta_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.tta_pipeline]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(pipeline=unlabelled_pipeline))
# No validation while training: the pipeline scores the held-out fold in its own step (oof.*).
train_cfg = dict(max_epochs=max_epochs, val_begin=max_epochs + 1)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=1))
# The parent's lr 0.01 is for a total batch of 16: scaled to this batch of 2 (at 0.01 TOOD can reach a NaN loss).
auto_scale_lr = dict(enable=True)
randomness = dict(seed=0)
