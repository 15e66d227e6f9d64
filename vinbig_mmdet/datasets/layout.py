"""Which download a data folder holds, and where its files are: Kaggle's competition layout (train.csv,
sample_submission.csv), the 1024 px PNG downloads (train_meta.csv / test_meta.csv, or test.csv with the test
images' sizes) and VinDr-CXR as released on PhysioNet (annotations/annotations_{train,test}.csv, a labelled test
set). The configs name Kaggle's files; a file they name that is absent is looked for under the other layouts'
names (see docs/physionet.md)."""
import os.path as osp
from typing import Dict, Optional

from ..io.csv_reader import csv_columns

PHYSIONET_TRAIN = 'annotations/annotations_train.csv'
PHYSIONET_TEST = 'annotations/annotations_test.csv'
PHYSIONET_IMAGE_LABELS = {'train': 'annotations/image_labels_train.csv', 'test': 'annotations/image_labels_test.csv'}
#: The test images' sizes under the PNG downloads' names, beside test/ (image_id,width,height or dim0,dim1).
TEST_SIZE_FILES = ('test_meta.csv', 'test.csv')
SIZE_COLUMNS = ({'width', 'height'}, {'dim0', 'dim1'})


def is_sizes_file(path: str) -> bool:
    """A CSV with image_id and an original size per image (and no boxes): a sizes file, also when it is named
    test.csv (the awsaf49 PNG download)."""
    if not osp.isfile(path):
        return False
    columns = set(csv_columns(path))
    return 'image_id' in columns and any(c <= columns for c in SIZE_COLUMNS) and not {'x_min', 'class_id',
                                                                                     'class_name'} & columns


def is_physionet(root: str) -> bool:
    """The PhysioNet release: its annotations folder, and no Kaggle train.csv beside it."""
    return (osp.isfile(osp.join(root, PHYSIONET_TRAIN)) or osp.isfile(osp.join(root, PHYSIONET_TEST))) and \
        not osp.isfile(osp.join(root, 'train.csv'))


def find_annotations(root: str, configured: str) -> Optional[Dict[str, object]]:
    """Where ``configured`` (an ann_file relative to ``root`` that does not exist) is in this folder's layout:
    ``dict(ann_file=..., labelled=bool, layout=...)`` or None when no other layout has it."""
    has = lambda rel: osp.isfile(osp.join(root, rel))  # noqa: E731
    name = osp.basename(configured)
    if name == 'train.csv' and has(PHYSIONET_TRAIN):
        return dict(ann_file=PHYSIONET_TRAIN, labelled=True, layout='PhysioNet release')
    if name == 'sample_submission.csv':
        if has(PHYSIONET_TEST):
            return dict(ann_file=PHYSIONET_TEST, labelled=True, layout='PhysioNet release')
        for sizes in TEST_SIZE_FILES:
            if is_sizes_file(osp.join(root, sizes)):  # lists the test images, with their sizes
                return dict(ann_file=sizes, labelled=False, layout='PNG download', meta_file=sizes)
    return None
