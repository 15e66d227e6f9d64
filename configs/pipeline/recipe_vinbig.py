# The recipe of the top VinBigData solutions (docs/pipeline.md): 3 detectors x 5 folds, each scored on its
# held-out fold and run on the test set, an image classifier per fold for the 2-class filter, weights of the
# weighted-boxes-fusion ensemble tuned on the out-of-fold predictions only.
#   python tools/pipeline.py configs/pipeline/recipe_vinbig.py --dry-run     (the plan, GPU-hour estimate)
#   python tools/pipeline.py configs/pipeline/recipe_vinbig.py --gpus 0 1 2 3 4 5 6 7
# Paths are relative to the repository root. Throughputs (img/s, one GPU) feed the plan's estimate only:
# measured=True marks figures measured for that model (docs/gpu/h200_2026-11-26.md, one H200, fp32, 1024 px);
# the others borrow the Faster R-CNN figures until measured (benchmarks/gpu_check.sh --models).
data_root = 'data/vinbig'  # train.csv, train/, test/ (data/README.md)
work_dir = 'work_dirs/pipeline'
folds = dict(n_splits=5, seed=42)  # tools/make_folds.py: stratified by class, grouped by image
models = [
    dict(name='faster_rcnn', config='configs/faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py', tta=True,
         train_img_s=14.67, test_img_s=17.70, tta_img_s=12.27, measured=True),
    dict(name='cascade_rcnn', config='configs/cascade-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py', tta=True),
    dict(name='tood', config='configs/tood_r50_fpn_coco-pretrained_24e_vinbig.py', tta=True),
]
# The image-level normal/abnormal classifier: one per fold; its test probabilities are averaged over the folds.
classifier = dict(config='configs/abnormality-classifier_r50_12e_vinbig.py')
# tools/ensemble.py --tune: every weight vector over these values and every IoU threshold, on the OOF predictions.
ensemble = dict(tune_weights=[0, 1, 2, 3], tune_iou=[0.4, 0.5, 0.6], skip_box_thr=0.0)
# The 2-class filter (vinbig_mmdet/classes.py FILTER_LOW / FILTER_HIGH): below low "No finding" only, above high
# the detections only, in between both.
filter = dict(low=0.08, high=0.95)
gpus_per_train = 1  # > 1: each training runs through tools/dist_train.sh on that many GPUs
estimate = dict(n_train_images=15000, n_test_images=3000)  # used when the data are not on this machine
