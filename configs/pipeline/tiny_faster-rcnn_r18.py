# A seconds-per-epoch Faster R-CNN (ResNet-18, 96 px, from scratch) for configs/pipeline/recipe_demo.py.
_base_ = ['../vinbig_faster_rcnn_demo.py']

img_scale = (96, 96)
max_epochs = 1
model = dict(
    backbone=dict(depth=18),
    neck=dict(in_channels=[64, 128, 256, 512]),
    train_cfg=dict(rpn_proposal=dict(nms_pre=200, max_per_img=100), rcnn=dict(sampler=dict(num=64))),
    test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100)))

train_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]
unlabelled_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.unlabelled_pipeline]
tta_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.tta_pipeline]
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False,
                        dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(pipeline=unlabelled_pipeline))
# No validation while training: the pipeline scores the held-out fold in its own step (oof.*).
train_cfg = dict(max_epochs=max_epochs, val_begin=max_epochs + 1)
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=5)]
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=1))
randomness = dict(seed=0)  # seeded: every run trains the same model
