# Test-time augmentation (tools/test.py --tta), as MMDetection's rtmdet_tta.py: the model wrapped in tta_model and
# the test images loaded through tta_pipeline. Each image is seen as is and flipped left-right; the two views'
# boxes are mapped back to the image and merged class by class with weighted boxes fusion (WBF), not NMS.
# Derived configs that change img_scale re-scale this pipeline like the others:
#   tta_pipeline = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t for t in _base_.tta_pipeline]
# More sizes: tools/test.py --tta --tta-scales 896 1152 (the Resize becomes a TestTimeAug stage of all the sizes).
# Unlabelled pipeline: tools/test.py --val adds LoadAnnotations (after the flip, so ground truth stays unflipped).
tta_model = dict(
    type='VinBigTTAModel',
    # iou_thr: boxes of two views overlapping more than this are fused into one; max_per_img as the model's
    tta_cfg=dict(iou_thr=0.55, skip_box_thr=0.0, max_per_img=100))
tta_pipeline = [
    dict(type='LoadDicomFromFile'),
    dict(type='Resize', scale=(1024, 1024), keep_ratio=False),  # vinbig_dataset.py's img_scale
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='RandomFlip', prob=1.), dict(type='RandomFlip', prob=0.)],
             [dict(type='PackDetInputs',
                   meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'original_size',
                              'flip', 'flip_direction'))],
         ]),
]
