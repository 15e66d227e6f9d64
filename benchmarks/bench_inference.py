"""Inference throughput through tools/test.py on the demo test images, with and without --tta.

Needs a trained demo checkpoint (make demo). Images/s from MMEngine's per-iteration times (model + data),
start-up excluded.

    python benchmarks/bench_inference.py [--checkpoint work_dirs/vinbig_faster_rcnn_demo/epoch_16.pth]
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIG = os.path.join(ROOT, 'configs', 'vinbig_faster_rcnn_demo.py')


def images_per_second(checkpoint, extra):
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, 'tools/test.py', CONFIG, checkpoint, '--submission', os.path.join(tmp, 's.csv'),
             '--work-dir', tmp, '--cfg-options', 'default_hooks.logger.interval=1',
             'log_processor.window_size=1', *extra],
            cwd=ROOT, capture_output=True, text=True, check=True)
    times = [float(t) for t in re.findall(r'Epoch\(test\) \[\d+/\d+\]\s+eta:.*?\btime: ([0-9.]+)',
                                          proc.stdout + proc.stderr)]
    return 1.0 / statistics.median(times[1:]), len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--checkpoint', default=os.path.join(ROOT, 'work_dirs', 'vinbig_faster_rcnn_demo',
                                                             'epoch_16.pth'))
    args = parser.parse_args()
    plain, n = images_per_second(args.checkpoint, [])
    tta, _ = images_per_second(args.checkpoint, ['--tta'])
    print(f'tools/test.py on {n} demo test images (demo config, 256 px, CPU, batch 1)')
    print(f'  plain: {plain:5.2f} img/s')
    print(f'  --tta: {tta:5.2f} img/s   (flip: 2 views, {plain / tta:.2f}x slower)')


if __name__ == '__main__':
    main()
