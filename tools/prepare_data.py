# Convert a folder of VinBigData DICOMs to PNGs (+ meta.csv with the original sizes), in parallel and resumable.
import argparse
import sys

from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.io.convert import convert_folder


def parse_args():
    parser = argparse.ArgumentParser(
        description='DICOM -> PNG with the project\'s DICOM reader (VOI LUT, MONOCHROME1, JPEG 2000 ...). Writes '
        'OUT/<image_id>.png, OUT/meta.csv (original width/height and DICOM attributes) and OUT/failures.csv for '
        'files that could not be converted, OUT/conversion.json (the settings). Rerunning skips finished images; a '
        'rerun with other settings is refused unless --overwrite. Exit status 1 if anything failed.')
    parser.add_argument('--src', required=True, help='folder of <image_id>.dicom files (.dcm and .dic too)')
    parser.add_argument('--out', required=True, help='output folder')
    parser.add_argument('--size', type=int, default=1024, help='output size in px (default 1024)')
    parser.add_argument('--keep-aspect', action='store_true',
                        help='longer side = --size, proportions kept (default: square, like the popular version)')
    parser.add_argument('--bit-depth', type=int, choices=[8, 16], default=8, help='PNG bit depth (default 8)')
    parser.add_argument('--workers', type=int, default=None, help='processes (default: all cores)')
    parser.add_argument('--overwrite', action='store_true',
                        help='OUT was made with other --size/--bit-depth/--keep-aspect: convert everything again')
    return parser.parse_args()


def main():
    args = parse_args()
    s = convert_folder(args.src, args.out, args.size, args.keep_aspect, args.bit_depth, args.workers,
                       overwrite=args.overwrite)
    rate = s['converted'] / s['seconds'] if s['seconds'] > 0 else 0.0
    print(f'{s["total"]} DICOMs: {s["converted"]} converted ({rate:.1f} img/s), {s["skipped"]} already done'
          f'{" (" + str(s["recovered"]) + " recovered from an interrupted run)" if s["recovered"] else ""}, '
          f'{s["failed"]} failed. Metadata: {s["meta"]}')
    if s['damaged']:
        print(f'{s["damaged"]} PNG(s) listed in meta.csv were incomplete (truncated or of another size) and were '
              f'converted again, e.g. {s["damaged_examples"]}')
    if s['failed']:
        print(f'Failures and reasons: {s["failures"]}', file=sys.stderr)
        sys.exit(1)


if __name__ == '__main__':
    run_tool(main)
