# The image classifier on the demo data (data/demo, `make demo`), sized for a CPU: a few minutes on 2 cores.
# Same model and pipelines as abnormality-classifier_r50_12e_vinbig.py with what a CPU demo needs changed: data root,
# ResNet-18 from scratch (no ImageNet download), 256 px, a larger step for a short schedule.
_base_ = ['./abnormality-classifier_r50_12e_vinbig.py']

data_root = 'data/demo/'
img_scale = (256, 256)
max_epochs = 12

model = dict(backbone=dict(depth=18, init_cfg=None))

train_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]
unlabelled_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.unlabelled_pipeline]
train_dataloader = dict(batch_size=16, num_workers=1,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, pipeline=unlabelled_pipeline))

train_cfg = dict(max_epochs=max_epochs, val_interval=2)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[9], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=0.05))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=4))
