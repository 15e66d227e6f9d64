# One radiograph with its ground truth (thin, white) and a submission's predictions (class colours) drawn: the
# picture of the README (docs/images/demo.png) comes from this tool after `make demo`.
import argparse
import glob
import os
import os.path as osp

from vinbig_mmdet.classes import DRAW_SCORE_THR
from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.errors import InputError


def parse_args():
    parser = argparse.ArgumentParser(
        description='Draw one image of a submission: its ground truth (every reader\'s box, thin and white) and the '
        'predictions scored >= --score-thr in their class colours. Boxes must be in the image\'s own pixels '
        '(DICOMs, or images at their original size).')
    parser.add_argument('submission', help='predictions (image_id,PredictionString), e.g. from tools/test.py')
    parser.add_argument('ground_truth', help="annotations in train.csv format (the demo's test_annotations.csv)")
    parser.add_argument('--images', required=True, help='folder of <image_id>.dicom/.png files')
    parser.add_argument('--image-id', help='the image to draw (default: the predicted image with findings whose '
                        'predictions match its ground truth best, F1 at IoU 0.4)')
    parser.add_argument('--score-thr', type=float, default=DRAW_SCORE_THR,
                        help='score from which predictions are drawn (default %(default)s)')
    parser.add_argument('--max-side', type=int, default=512, help='longest side of the picture in pixels')
    parser.add_argument('--out', required=True, help='output PNG')
    return parser.parse_args()


def main():
    args = parse_args()
    import cv2

    from vinbig_mmdet.analysis.report import draw_case, pick_example
    from vinbig_mmdet.evaluation import read_submission
    from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv
    from vinbig_mmdet.io import IMAGE_SUFFIXES
    from vinbig_mmdet.io.atomic import atomic_open

    predictions = read_submission(args.submission)
    truth = ground_truth_from_csv(args.ground_truth, fusion='none')
    image_id = args.image_id or pick_example(truth, predictions, args.score_thr)
    if image_id not in predictions or image_id not in truth:
        raise InputError(f'--image-id {image_id}: not in both {args.submission} and {args.ground_truth}; '
                         f'pick an image id that both list')
    paths = [p for p in glob.glob(osp.join(glob.escape(args.images), image_id + '.*')) if p.endswith(IMAGE_SUFFIXES)]
    if not paths:
        raise InputError(f'{args.images}: no image file {image_id}{{{",".join(IMAGE_SUFFIXES)}}}; pass the folder '
                         f'of the submission\'s images with --images')
    picture = draw_case(paths[0], truth[image_id], predictions[image_id], args.score_thr, args.max_side)
    ok, png = cv2.imencode('.png', picture, [cv2.IMWRITE_PNG_COMPRESSION, 9])
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with atomic_open(args.out, 'wb') as f:
        f.write(png.tobytes())
    print(f'wrote {args.out} ({image_id}, {len(truth[image_id][0])} ground-truth boxes, {len(png) / 1e3:.0f} kB)')


if __name__ == '__main__':
    run_tool(main)
