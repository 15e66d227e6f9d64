# VinBigData dataset settings: Kaggle train.csv + DICOMs (or the 1024 px PNG version), one validation fold.
# Layout under data_root (see data/README.md):
#   train/<image_id>.dicom|png   train.csv   folds.csv (tools/make_folds.py; or --folds-file elsewhere)
#   test/<image_id>.dicom|png    sample_submission.csv (without it: every image of test/)
#   PNGs: original sizes from width/height in train.csv, train_meta.csv / test_meta.csv, or meta.csv in the folder
# Choose the validation fold with --fold K (or --cfg-options fold=K): the tools set it in every loader.
dataset_type = 'VinBigDataset'
data_root = 'data/vinbig/'
img_scale = (1024, 1024)
fold = 0
# The classes: 'kaggle14' (Kaggle's 14, the default) or 'vindr22' (the PhysioNet release's 22 local labels; set the
# detector's num_classes to 22 too, as configs/vinbig_faster_rcnn_22cls.py does). Labels outside the set are dropped
# and counted in the load log line; "No finding" is the last id (14 or 22).
class_set = 'kaggle14'
backend_args = None

train_pipeline = [
    dict(type='LoadDicomFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadDicomFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=False),
    # Annotations after Resize: ground truth stays in the loaded image's pixels. Remove for unlabelled data.
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor', 'original_size')),
]
# Unlabelled images (Kaggle's test set): the test pipeline without its annotations.
unlabelled_pipeline = [t for t in test_pipeline if t['type'] != 'LoadAnnotations']

# Readers' boxes fused with weighted boxes fusion at IoU 0.4 (the competition's overlap); "No finding" images
# kept in training as negatives (filter_empty_gt=False; validation and test never drop images).
fusion = dict(type='wbf', iou_thr=0.4, skip_box_thr=0.0)

train_dataloader = dict(
    batch_size=4,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='train.csv',
        data_prefix=dict(img='train/'),
        folds_file='folds.csv',
        fold=fold,
        class_set=class_set,
        split='train',
        fusion=fusion,
        filter_cfg=dict(filter_empty_gt=False),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    # the labelled images of training, its held-out fold (filter_cfg applies to training only)
    dataset=dict(train_dataloader['dataset'], split='val', test_mode=True, pipeline=test_pipeline))
# Kaggle's test images: no labels; tools/test.py --submission writes the CSV. Loaded as the validation fold is.
test_dataloader = dict(
    val_dataloader,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        ann_file='sample_submission.csv',
        missing_ann_file='list_images',  # the PNG downloads ship no sample_submission.csv
        data_prefix=dict(img='test/'),
        class_set=class_set,
        test_mode=True,
        pipeline=unlabelled_pipeline))

val_evaluator = dict(type='VinBigMetric', iou_thr=0.4)
test_evaluator = val_evaluator
