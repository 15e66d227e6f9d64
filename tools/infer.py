# Detect abnormalities on single studies: JSON (original pixels) and an annotated PNG per image.
import argparse
import sys

from vinbig_mmdet.classes import DRAW_SCORE_THR
from vinbig_mmdet.cli import run_tool


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
    parser.add_argument('--score-thr', type=float, default=DRAW_SCORE_THR,
                        help='minimum score shown (default %(default)s)')
    parser.add_argument('--meta-file', help='original sizes of PNG inputs: image_id,width,height or '
                        'image_id,dim0,dim1 (e.g. test_meta.csv of the 1024 px PNG set)')
    parser.add_argument('--device', default='cpu', help='cpu, cuda or cuda:N (default cpu)')
    parser.add_argument('--allow-partial', action='store_true',
                        help='load a checkpoint that does not fully fit the model (deliberate cases only)')
    return parser.parse_args()


def main():
    args = parse_args()
    from vinbig_mmdet.apis import VinBigInferencer, collect_inputs

    if not collect_inputs(args.inputs):
        sys.exit(f'error: no DICOM/PNG/JPEG files in {args.inputs}')
    inferencer = VinBigInferencer(args.config, args.checkpoint, args.device, args.score_thr, args.allow_partial,
                                  show_progress=True)
    results = inferencer(args.inputs, meta_file=args.meta_file, out_dir=args.out_dir)
    predictions, failed = results['predictions'], results['failed']
    found = sum(len(r['detections']) for r in predictions)
    image_pixels = [r['path'] for r in predictions if r['pixels'] == 'image']
    print(f'{len(predictions)} image(s), {found} finding(s) at score >= {args.score_thr} -> {args.out_dir}; '
          f'boxes in original pixels' + (f' except {len(image_pixels)} image(s) of unknown original size, in their '
                                         f'own pixels (give --meta-file), e.g. {image_pixels[0]}'
                                         if image_pixels else ''))
    for reason in failed:
        print(f'FAILED: {reason}', file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    run_tool(main)
