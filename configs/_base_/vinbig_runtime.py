# What every VinBigData detector config runs with: MMDetection's default runtime plus the project's runner and hooks.
_base_ = ['mmdet::_base_/default_runtime.py']
custom_imports = dict(imports=['vinbig_mmdet'], allow_failed_imports=False)
# Atomic checkpoints, old ones deleted only after a new one is safe, and a --resume that says what it does.
runner_type = 'VinBigRunner'

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50),
    checkpoint=dict(type='SafeCheckpointHook', interval=1, max_keep_ckpts=3, save_best='vinbig/mAP',
                    rule='greater'),
    # MMDetection's DetVisualizationHook reading DICOMs: tools/test.py --show-dir / --show
    visualization=dict(type='RadiographVisualizationHook'))
custom_hooks = [dict(type='NonFiniteLossHook')]
