"""The DICOM -> PNG converter end to end on 3000 x 2500 12-bit DICOMs, all cores: images/s and peak memory.

    python benchmarks/bench_convert.py [--n 16] [--workers N]
"""
import argparse
import os
import resource
import tempfile
import time

from bench_dicom import make_files

from vinbig_mmdet.io.convert import convert_folder


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, default=16, help='DICOMs (a quarter JPEG 2000)')
    parser.add_argument('--workers', type=int, default=os.cpu_count())
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'src')
        os.makedirs(src)
        n_j2k = args.n // 4
        make_files(src, args.n - n_j2k, 'explicit')
        make_files(src, n_j2k, 'jpeg2000')
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        summary = convert_folder(src, os.path.join(tmp, 'out'), size=1024, workers=args.workers,
                                 progress=False)
        seconds = time.perf_counter() - start
        child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f'{args.n} DICOMs (3000 x 2500, {n_j2k} JPEG 2000) -> 1024 px PNG with {args.workers} workers')
        print(f'  {summary["converted"]} converted, {summary["failed"]} failed in {seconds:.1f} s: '
              f'{summary["converted"] / seconds:.2f} img/s')
        print(f'  peak memory: {child_peak:.0f} MB per worker process (largest), parent {rss_before / 1024:.0f} MB')


if __name__ == '__main__':
    main()
