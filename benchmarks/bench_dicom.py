"""DICOM -> model-ready image, one core: the project's reader against the naive notebook path.

Naive path (most public VinBig notebooks): pydicom pixel_array -> apply_voi_lut in float64 -> MONOCHROME1 flip ->
min-max to uint8 at full size -> resize. Ours: vinbig_mmdet.io.read_dicom (one table lookup over the stored
values) -> resize. Raw decoder: pydicom's pixel_array alone (the floor for JPEG 2000).

    python benchmarks/bench_dicom.py [--n 3] [--repeats 3] [--size 1024]
"""
import argparse
import os
import statistics
import tempfile
import time

os.environ.setdefault('OMP_NUM_THREADS', '1')
import cv2
import numpy as np
import pydicom
from pydicom.pixels import apply_voi_lut

from vinbig_mmdet.demo.dicom_writer import write_dicom
from vinbig_mmdet.demo.synth import SynthImage, render_image
from vinbig_mmdet.io import read_dicom

cv2.setNumThreads(1)


def naive(path, size):
    ds = pydicom.dcmread(path)
    data = apply_voi_lut(ds.pixel_array, ds).astype(np.float64)
    if ds.PhotometricInterpretation == 'MONOCHROME1':
        data = np.amax(data) - data
    data = data - np.min(data)
    data = data / np.max(data)
    img = (data * 255).astype(np.uint8)
    return cv2.resize(img, (size, size))


def ours(path, size):
    return cv2.resize(read_dicom(path), (size, size), interpolation=cv2.INTER_AREA)


def raw_decode(path, size):
    return pydicom.dcmread(path).pixel_array


def timeit(fn, paths, size, repeats):
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for p in paths:
            fn(p, size)
        runs.append((time.perf_counter() - start) / len(paths))
    return statistics.median(runs)


def make_files(folder, n, syntax):
    paths = []
    rng = np.random.default_rng(0)
    for k in range(n):
        item = SynthImage(image_id=f'{syntax}{k}', split='x', width=2500, height=3000, boxes=np.zeros((0, 4)),
                          labels=np.zeros(0, np.int64), seed=k, photometric=('MONOCHROME1', 'MONOCHROME2')[k % 2],
                          transfer_syntax=syntax)
        path = os.path.join(folder, f'{syntax}{k}.dicom')
        write_dicom(path, render_image(item), photometric=item.photometric, bits_stored=12,
                    window=(float(rng.uniform(1500, 2500)), 2900.0), transfer_syntax=syntax)
        paths.append(path)
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--n', type=int, default=3, help='files per kind (3000 x 2500, 12-bit)')
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--size', type=int, default=1024)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f'{args.n} DICOMs of 3000 x 2500, 12-bit, per kind; median of {args.repeats} runs; one core\n')
        print(f'{"kind":<14} {"naive ms":>9} {"ours ms":>8} {"raw decode ms":>14} {"naive/ours":>11} '
              f'{"ours/raw":>9}')
        for syntax in ('explicit', 'jpeg2000'):
            paths = make_files(tmp, args.n, syntax)
            ref, mine = naive(paths[0], args.size), ours(paths[0], args.size)
            agree = np.abs(ref.astype(int) - mine.astype(int)).mean()
            t_naive = timeit(naive, paths, args.size, args.repeats)
            t_ours = timeit(ours, paths, args.size, args.repeats)
            t_raw = timeit(raw_decode, paths, args.size, args.repeats)
            print(f'{syntax:<14} {t_naive * 1e3:9.1f} {t_ours * 1e3:8.1f} {t_raw * 1e3:14.1f} '
                  f'{t_naive / t_ours:10.2f}x {t_ours / t_raw:8.2f}x   (mean |naive - ours| = {agree:.2f} levels)')


if __name__ == '__main__':
    main()
