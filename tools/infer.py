# Detect abnormalities on single studies: JSON (original pixels) and an annotated PNG per image.
import argparse
import json
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout without install
from vinbig_mmdet.cli import run_tool  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description='Run a trained detector on DICOM/PNG files or folders; write <image_id>.json (class, score, '
        'box) and <image_id>.png (boxes drawn over the radiograph). Boxes are in original DICOM pixels for DICOMs '
        'and for PNGs whose original size is known (--meta-file, or meta.csv / <folder>_meta.csv found beside '
        'them); otherwise in PNG pixels, and the JSON says "pixels": "image".')
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('inputs', nargs='+', help='image files or folders')
    parser.add_argument('--out-dir', default='work_dirs/infer', help='output folder (default: work_dirs/infer)')
    parser.add_argument('--score-thr', type=float, default=0.3, help='minimum score shown (default 0.3)')
    parser.add_argument('--meta-file', help='original sizes of PNG inputs: image_id,width,height or '
                        'image_id,dim0,dim1 (e.g. test_meta.csv of the 1024 px PNG set)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N (default cpu)')
    return parser.parse_args()


def main():
    args = parse_args()
    import cv2
    from mmdet.apis import init_detector
    from mmdet.utils import register_all_modules
    from tqdm import tqdm

    from vinbig_mmdet.engine.inference import collect_inputs, draw_detections, original_sizes, predict_image
    from vinbig_mmdet.io import ImageReadError, is_dicom_path
    from vinbig_mmdet.io.atomic import atomic_open

    register_all_modules()
    files = collect_inputs(args.inputs)
    if not files:
        sys.exit(f'error: no DICOM/PNG/JPEG files in {args.inputs}')
    sizes = original_sizes(files, args.meta_file)
    model = init_detector(args.config, args.checkpoint, device=args.device)
    os.makedirs(args.out_dir, exist_ok=True)
    failed, found, image_pixels = [], 0, []
    for path in tqdm(files, desc='infer', unit='img'):
        image_id = osp.splitext(osp.basename(path))[0]
        try:
            result, gray = predict_image(model, path, args.score_thr, sizes.get(image_id))
        except (ImageReadError, FileNotFoundError) as exc:
            failed.append(str(exc))
            continue
        found += len(result['detections'])
        if result['pixels'] == 'image' and not is_dicom_path(path):
            image_pixels.append(path)
        with atomic_open(osp.join(args.out_dir, image_id + '.json'), 'w') as f:
            json.dump(result, f, indent=2)
        picture = draw_detections(gray, result['detections'], box_size=(result['width'], result['height']))
        cv2.imwrite(osp.join(args.out_dir, image_id + '.png'), picture)
    print(f'{len(files) - len(failed)} image(s), {found} finding(s) at score >= {args.score_thr} -> {args.out_dir}; '
          f'boxes in original pixels' + (f' except {len(image_pixels)} image(s) of unknown original size, in their '
                                         f'own pixels (give --meta-file), e.g. {image_pixels[0]}'
                                         if image_pixels else ''))
    for reason in failed:
        print(f'FAILED: {reason}', file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    run_tool(main)
