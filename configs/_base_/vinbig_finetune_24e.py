# What the COCO-initialised detectors share: VinBigData with the augmentations of the top solutions, MMDetection's
# 2x schedule (24 epochs, lr x0.1 after epochs 16 and 22) at lr 0.01 for a total batch of 16 (MMDetection's own
# fine-tuning rate: half its from-ImageNet 0.02), and the project's runner and hooks. A detector config adds an
# mmdet:: model base, num_classes=14, test thresholds and load_from (a COCO checkpoint from MMDetection's model zoo).
_base_ = [
    'mmdet::_base_/schedules/schedule_2x.py',
    'mmdet::_base_/default_runtime.py',
    './vinbig_dataset.py',
]
custom_imports = dict(imports=['vinbig_mmdet'], allow_failed_imports=False)
# Atomic checkpoints, old ones deleted only after a new one is safe, and a --resume that says what it does.
runner_type = 'VinBigRunner'

# After the flip: a small shift-scale-rotate (half the images) and brightness/contrast +-20% (half each), what the
# top solutions did with albumentations (ShiftScaleRotate, RandomBrightnessContrast), here with MMDetection's own
# transforms (no extra dependency). The border is black, like the edge of a radiograph.
train_augmentation = [
    dict(type='RandomApply', prob=0.5, transforms=[
        dict(type='RandomAffine', max_rotate_degree=5.0, max_translate_ratio=0.0625,
             scaling_ratio_range=(0.9, 1.1), max_shear_degree=0.0, border_val=(0, 0, 0))]),
    dict(type='Brightness', prob=0.5, min_mag=0.8, max_mag=1.2),
    dict(type='Contrast', prob=0.5, min_mag=0.8, max_mag=1.2),
]
train_pipeline = _base_.train_pipeline[:-1] + train_augmentation + _base_.train_pipeline[-1:]
# 4 images per GPU: 4 GPUs make the total of 16; on other totals add --auto-scale-lr.
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001))
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=3, save_best='vinbig/mAP',
                    rule='greater'))
custom_hooks = [dict(type='NonFiniteLossHook')]
