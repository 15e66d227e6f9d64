# The main Faster R-CNN on VinDr-CXR's 22 local labels (the PhysioNet release; docs/physionet.md): the same recipe,
# the dataset's class set and the detector's classes changed together. "No finding" is class 22 in submissions.
_base_ = ['./vinbig_faster_rcnn.py']

class_set = 'vindr22'
model = dict(roi_head=dict(bbox_head=dict(num_classes=22)))
