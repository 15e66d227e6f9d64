# A seconds-per-epoch stand-in for configs/abnormality-classifier_r18_demo.py (64 px), used by the end-to-end tests.
_base_ = ['../../configs/abnormality-classifier_r18_demo.py']

img_scale = (64, 64)
train_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.train_pipeline]
test_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.test_pipeline]
unlabelled_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.unlabelled_pipeline]
train_dataloader = dict(batch_size=4, num_workers=0, persistent_workers=False, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(num_workers=0, persistent_workers=False, dataset=dict(pipeline=unlabelled_pipeline))
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(logger=dict(interval=2), checkpoint=dict(interval=1))
randomness = dict(seed=0)  # seeded: every run of the suite trains the same classifier
