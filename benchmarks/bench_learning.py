"""Learning on the demo: the demo config's metric on its held-out fold after its default schedule, for several
training seeds, with the time each took, next to the chance level (every image called "No finding") and to how
well one radiologist scores against the other two on the same data (vinbig_mmdet/analysis/agreement.py).

    python benchmarks/bench_learning.py [--seeds 0 1 2] [--data data/demo] [--work-dir work_dirs/bench_learning]

A seed whose ``<work-dir>/seed<N>`` already holds a finished run of the same data (``last_checkpoint``) is read, not
trained again (its time is then not known here). ``bench_methods.py`` and ``bench_two_class_filter.py`` reuse these
models.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--data', default=os.path.join(ROOT, 'data', 'demo'))
    parser.add_argument('--work-dir', default=os.path.join(ROOT, 'work_dirs', 'bench_learning'))
    args = parser.parse_args()
    import pandas as pd

    from vinbig_mmdet.analysis.agreement import reader_vs_readers_map
    from vinbig_mmdet.analysis.curves import read_scalars
    from vinbig_mmdet.datasets.annotations import read_annotations
    from vinbig_mmdet.evaluation import no_finding_baseline
    from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv
    rows = []
    print(f'load average before: {os.getloadavg()[0]:.1f} (2 cores: above 2 means other work shares them)', flush=True)
    for seed in args.seeds:
        work = os.path.join(args.work_dir, f'seed{seed}')
        os.makedirs(work, exist_ok=True)
        start, minutes = time.time(), None
        if not os.path.isfile(os.path.join(work, 'last_checkpoint')):
            with open(os.path.join(work, 'bench.log'), 'w') as log:  # the tool's output, to read if it fails
                subprocess.run([sys.executable, 'tools/train.py', 'configs/vinbig_faster_rcnn_demo.py',
                                '--data-path', args.data + '/', '--work-dir', work, '--cfg-options',
                                f'randomness.seed={seed}'], cwd=ROOT, check=True, stdout=log, stderr=subprocess.STDOUT)
            minutes = (time.time() - start) / 60
        final = read_scalars(work)[1][-1]
        rows.append((seed, final['vinbig/mAP'], minutes))
        took = f'{minutes:.1f} min' if minutes is not None else 'trained earlier'
        print(f'seed {seed}: mAP@0.4 {final["vinbig/mAP"]:.4f} on fold 0 after {final["step"]} epochs, '
              f'{took} (load average {os.getloadavg()[0]:.1f})', flush=True)
    folds = pd.read_csv(os.path.join(args.data, 'folds.csv'), dtype={'image_id': str})
    val = set(folds.loc[folds['fold'] == 0, 'image_id'])
    truth = {k: v for k, v in ground_truth_from_csv(os.path.join(args.data, 'train.csv')).items() if k in val}
    maps = [r[1] for r in rows]
    spread = statistics.stdev(maps) if len(maps) > 1 else 0.0
    chance = no_finding_baseline(truth)
    timed = [r[2] for r in rows if r[2] is not None]
    print(f'\nmAP@0.4 over {len(maps)} seeds: mean {statistics.mean(maps):.4f}, std {spread:.4f}, '
          f'min {min(maps):.4f}, max {max(maps):.4f}; chance (all "No finding"): {chance:.4f} '
          f'(mean / chance {statistics.mean(maps) / chance:.1f}x)'
          + (f'; training {statistics.mean(timed):.1f} min per run trained here' if timed else ''))
    readers = reader_vs_readers_map(read_annotations(os.path.join(args.data, 'train.csv')))
    print(f'a reader against the other two (train.csv, unfused): {readers["mAP"]:.4f}')


if __name__ == '__main__':
    main()
