# Detect abnormalities on single studies: JSON (original pixels) and an annotated PNG per image.
import argparse
import json
import os
import os.path as osp
import sys

import cv2

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Run a trained detector on DICOM/PNG files or folders; write <image_id>.json (class, score, '
        'box in original pixels) and <image_id>.png (boxes drawn over the radiograph).')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+', help='image files or folders')
    parser.add_argument('--out-dir', default='work_dirs/infer', help='output folder (default: work_dirs/infer)')
    parser.add_argument('--score-thr', type=float, default=0.3, help='minimum score shown (default 0.3)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N (default cpu)')
    parser.add_argument('--allow-partial', action='store_true',
                        help='load a checkpoint that does not fully fit the model (deliberate cases only)')
    return parser.parse_args()


def main():
    args = parse_args()
    from mmdet.utils import register_all_modules
    from tqdm import tqdm

    import vinbig_mmdet  # noqa: F401  (registers the project's modules; custom_imports also does)
    from vinbig_mmdet.engine.checkpoint import init_detector_checked
    from vinbig_mmdet.engine.inference import collect_inputs, draw_detections, predict_image
    from vinbig_mmdet.io import ImageReadError

    register_all_modules()
    files = collect_inputs(args.inputs)
    if not files:
        sys.exit(f'no DICOM/PNG/JPEG files in {args.inputs}')
    model = init_detector_checked(args.config, args.checkpoint, args.device, args.allow_partial)
    os.makedirs(args.out_dir, exist_ok=True)
    failed, found = [], 0
    for path in tqdm(files, desc='infer', unit='img'):
        try:
            result, gray = predict_image(model, path, args.score_thr)
        except (ImageReadError, FileNotFoundError) as exc:
            failed.append(str(exc))
            continue
        found += len(result['detections'])
        with open(osp.join(args.out_dir, result['image_id'] + '.json'), 'w') as f:
            json.dump(result, f, indent=2)
        cv2.imwrite(osp.join(args.out_dir, result['image_id'] + '.png'), draw_detections(gray, result['detections']))
    print(f'{len(files) - len(failed)} image(s), {found} finding(s) at score >= {args.score_thr} -> {args.out_dir}')
    for reason in failed:
        print(f'FAILED: {reason}', file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    run_tool(main)
