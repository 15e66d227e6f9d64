# tiny_r18.py on VinDr-CXR's 22 local labels (the PhysioNet release), as configs/vinbig_faster_rcnn_22cls.py is
# the main config on them.
_base_ = ['./tiny_r18.py']

class_set = 'vindr22'
model = dict(roi_head=dict(bbox_head=dict(num_classes=22)))
randomness = dict(seed=0)  # as tiny_r18.py: every run of the suite trains the same model
