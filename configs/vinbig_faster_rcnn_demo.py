# The CPU demo (make demo): the main config on the generated demo data, sized for 2 cores and under 15 minutes.
# Same detector (Faster R-CNN R50-FPN); only what a CPU demo needs changes: data root, image size, schedule,
# no ImageNet download, and fewer sampled proposals/RoIs: on CPU, RoIAlign forward and backward and the box head's
# fully connected layers cost more than the backbone (profiled on the demo: a ResNet-18 backbone only saves 25%),
# so each image trains on 64 sampled RoIs (MMDetection: 512) from 150 proposals (1000).
_base_ = ['./vinbig_faster_rcnn.py']

data_root = 'data/demo/'
img_scale = (256, 256)
max_epochs = 12

# No pretrained weights offline: train the backbone from scratch, so nothing may stay frozen at its random
# initialisation and BatchNorm must learn its statistics.
model = dict(
    backbone=dict(init_cfg=None, frozen_stages=-1, norm_eval=False),
    train_cfg=dict(rpn_proposal=dict(max_per_img=150), rcnn=dict(sampler=dict(num=64))))

# The inherited pipelines at this config's image size (edited, not copied: see configs/_base_/vinbig_dataset.py).
train_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]
unlabelled_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.unlabelled_pipeline]
tta_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.tta_pipeline]
# A few hundred steps teach more when every batch has findings: "No finding" images (70%) are left out of
# training here (they stay in validation and test, where they are scored as class 14).
train_dataloader = dict(batch_size=4, num_workers=1,
                        dataset=dict(data_root=data_root, pipeline=train_pipeline,
                                     filter_cfg=dict(filter_empty_gt=True)))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root, pipeline=unlabelled_pipeline))

# From scratch for ~150 steps needs a larger step than the fine-tuning recipe.
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[9, 11], gamma=0.1),
]
optim_wrapper = dict(optimizer=dict(lr=0.02), clip_grad=dict(max_norm=10, norm_type=2))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=4))
