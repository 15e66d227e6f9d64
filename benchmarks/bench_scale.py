"""The annotation path at scale: Kaggle's real size (15,000 images, 67,914 rows) next to 187,500 images /
1,000,000 rows, generated in Kaggle's train.csv format.

    python benchmarks/bench_scale.py [--images 15000 187500] [--rows 67914 1000000] [--before-rev REV] [--skip-build]

The generated train.csv is realistic where the cost depends on it: three readers per image out of 17 (R8, R9,
R10 read most), 70% "No finding" images (three "No finding" rows), the class mix and box sizes of STACK.md's table,
readers who miss findings and draw jittered boxes, rows in no particular order, original width/height columns.
A submission for every image (one reader's boxes with scores, two false positives, "No finding") is scored
against it, as tools/evaluate_submission.py does.

Timed, at both sizes: read_annotations; the VinBigDataset build (empty ``<image_id>.dicom`` files stand in for the
images, sizes come from the CSV's width/height columns, so nothing is decoded); tools/analyze_annotations.py's
statistics and plots; tools/evaluate_submission.py's ground truth (WBF of the readers), read_submission and the
metric. With ``--before-rev`` (default: the commit before the vectorised versions), reader agreement and the
metric are also timed with that revision's code (read from git) on the same data, and the results compared
(at the first size; all sizes with ``--before-at-every-size``), as are read_annotations and read_submission (every
size: what the checks cost).
"""
import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# STACK.md: images with the class, median box w x h, median centre x, y (original pixels, images ~2,500 px)
CLASS_STATS = {
    0: (3067, 293, 329, 1409, 922), 1: (186, 529, 556, 947, 950), 2: (452, 157, 178, 1406, 1042),
    3: (2300, 1061, 377, 1410, 1672), 4: (353, 470, 521, 926, 1211), 5: (386, 562, 1026, 1106, 1392),
    6: (613, 469, 529, 1002, 1142), 7: (1322, 390, 404, 944, 1296), 8: (826, 102, 100, 1075, 1272),
    9: (1134, 296, 364, 1058, 1322), 10: (1032, 217, 287, 726, 1871), 11: (1981, 232, 152, 1032, 610),
    12: (96, 704, 810, 774, 1177), 13: (1617, 299, 273, 998, 984),
}
READERS = [f'R{i}' for i in range(1, 18)]
P_SEEN = 0.75  # a reader reports a finding with this probability


def image_ids(n, rng):
    return np.array([f'{v:016x}{w:016x}' for v, w in rng.integers(0, 2**63, (n, 2))])


def make_annotations(n_images: int, n_rows: int, seed: int = 0, normal_frac: float = 0.7) -> pd.DataFrame:
    """A train.csv-format frame (with width/height) of ``n_images`` images and about ``n_rows`` rows."""
    from vinbig_mmdet.classes import ALL_CLASSES, NO_FINDING_ID
    rng = np.random.default_rng(seed)
    ids = image_ids(n_images, rng)
    width = rng.integers(2000, 3000, n_images)
    height = (width * rng.uniform(1.0, 1.3, n_images)).astype(int)
    weights = np.where(np.isin(READERS, ['R8', 'R9', 'R10']), 8.0, 1.0)
    keys = np.log(weights) - np.log(-np.log(rng.uniform(size=(n_images, len(READERS)))))  # Gumbel top-3
    readers = np.argsort(-keys, axis=1)[:, :3]
    abnormal = rng.uniform(size=n_images) >= normal_frac
    n_abnormal = int(abnormal.sum())
    per_reader = max((n_rows - 3 * (n_images - n_abnormal)) / max(3 * n_abnormal, 1), 1.0)
    # true findings per abnormal image; each reader sees each with P_SEEN (and at least one)
    k = 1 + rng.poisson(max((per_reader - 1) / P_SEEN, 0), n_abnormal)  # the first: 3 rows, others 3 P each
    img = np.repeat(np.flatnonzero(abnormal), k)
    freq = np.array([CLASS_STATS[c][0] for c in range(NO_FINDING_ID)], float)
    cls = rng.choice(NO_FINDING_ID, len(img), p=freq / freq.sum())
    stats = np.array([CLASS_STATS[c][1:] for c in cls], float)
    scale = (width[img] / 2500.0)[:, None]
    wh = stats[:, :2] * scale * rng.lognormal(0, 0.3, (len(img), 2))
    centre = stats[:, 2:] * scale + rng.normal(0, 0.08, (len(img), 2)) * stats[:, :2]
    truth = np.concatenate([centre - wh / 2, centre + wh / 2], axis=1)
    # each (finding, reader): seen or not; the first finding of an image is seen by everyone
    f_img, f_reader = np.repeat(img, 3), np.tile(np.arange(3), len(img))
    first = np.r_[True, img[1:] != img[:-1]]
    seen = (rng.uniform(size=len(f_img)) < P_SEEN) | np.repeat(first, 3)
    f = np.flatnonzero(seen)
    box = np.repeat(truth, 3, axis=0)[f]
    jitter = rng.normal(0, 0.06, (len(f), 4)) * np.tile(np.repeat(wh, 3, axis=0)[f], 2)
    box = box + jitter
    wh_img = np.stack([width, height, width, height], axis=1)[f_img[f]]
    box = np.clip(box, 0, wh_img - 1)
    box[:, 2:] = np.maximum(box[:, 2:], box[:, :2] + 2)
    findings = pd.DataFrame({'image_id': ids[f_img[f]], 'class_id': np.repeat(cls, 3)[f],
                             'rad_id': np.array(READERS)[readers[f_img[f], f_reader[f]]],
                             'x_min': box[:, 0].round(), 'y_min': box[:, 1].round(), 'x_max': box[:, 2].round(),
                             'y_max': box[:, 3].round(), 'width': width[f_img[f]], 'height': height[f_img[f]]})
    normal = np.flatnonzero(~abnormal)
    n_img = np.repeat(normal, 3)
    normals = pd.DataFrame({'image_id': ids[n_img], 'class_id': NO_FINDING_ID,
                            'rad_id': np.array(READERS)[readers[normal].reshape(-1)],
                            'width': width[n_img], 'height': height[n_img]})
    ann = pd.concat([findings, normals], ignore_index=True).sample(frac=1, random_state=seed)
    ann.insert(1, 'class_name', np.array(ALL_CLASSES)[ann['class_id'].to_numpy()])
    return ann[['image_id', 'class_name', 'class_id', 'rad_id', 'x_min', 'y_min', 'x_max', 'y_max', 'width',
                'height']]


def make_submission(ann: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """One row per image: the first listed reader's boxes with random scores, two false positives, "No finding"."""
    rng = np.random.default_rng(seed + 1)
    from vinbig_mmdet.classes import NO_FINDING_ID
    ids = ann['image_id'].unique()
    first_reader = ann.groupby('image_id')['rad_id'].first()
    found = ann[(ann['class_id'] != NO_FINDING_ID) & (ann['rad_id'].to_numpy() ==
                                                      first_reader.reindex(ann['image_id']).to_numpy())]
    n_fp = 2 * len(ids)
    w = ann.groupby('image_id')['width'].first().reindex(ids).to_numpy()
    xy = rng.uniform(0, 1500, (n_fp, 2))
    objects = pd.DataFrame({
        'image_id': np.concatenate([found['image_id'].to_numpy(), np.repeat(ids, 2), ids]),
        'class_id': np.concatenate([found['class_id'], rng.integers(0, NO_FINDING_ID, n_fp),
                                    np.full(len(ids), NO_FINDING_ID)]),
        'score': np.concatenate([rng.uniform(0.3, 1, len(found)), rng.uniform(0.01, 0.5, n_fp),
                                 rng.uniform(0, 1, len(ids))]).round(4),
    })
    boxes = np.concatenate([found[['x_min', 'y_min', 'x_max', 'y_max']].to_numpy(),
                            np.concatenate([xy, xy + rng.uniform(50, 400, (n_fp, 2))], axis=1),
                            np.tile([0, 0, 1, 1], (len(ids), 1))]).round(1)
    del w
    text = objects['class_id'].astype(str) + ' ' + objects['score'].astype(str)
    for k in range(4):
        text += ' ' + pd.Series(boxes[:, k]).astype(str).to_numpy()
    objects['text'] = text
    rows = objects.groupby('image_id', sort=False)['text'].agg(' '.join)
    return pd.DataFrame({'image_id': rows.index, 'PredictionString': rows.to_numpy()})


def module_at(rev: str, path: str, name: str):
    """A module of the package as it was at git revision ``rev`` (for the 'before' figures)."""
    source = subprocess.run(['git', 'show', f'{rev}:{path}'], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout
    package = name.rsplit('.', 1)[0]
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)
    module.__package__ = package
    exec(compile(source, f'{rev}:{path}', 'exec'), module.__dict__)
    return module


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run_size(n_images: int, n_rows: int, tmp: str, before, skip_build: bool) -> dict:
    from vinbig_mmdet.analysis.annotations import boxes_per_image, class_table, reader_agreement, save_plots
    from vinbig_mmdet.datasets import VinBigDataset
    from vinbig_mmdet.datasets.annotations import read_annotations
    from vinbig_mmdet.evaluation.ground_truth import ground_truth_from_csv
    from vinbig_mmdet.evaluation.kaggle_map import kaggle_map
    from vinbig_mmdet.evaluation.submission import read_submission
    root = os.path.join(tmp, f'n{n_images}')
    os.makedirs(os.path.join(root, 'train'))
    os.makedirs(os.path.join(root, 'plots'))
    ann_df = make_annotations(n_images, n_rows)
    ann_df.to_csv(os.path.join(root, 'train.csv'), index=False)
    make_submission(ann_df).to_csv(os.path.join(root, 'submission.csv'), index=False)
    for img_id in ann_df['image_id'].unique():
        open(os.path.join(root, 'train', f'{img_id}.dicom'), 'wb').close()
    out = dict(images=ann_df['image_id'].nunique(), rows=len(ann_df))
    csv = os.path.join(root, 'train.csv')

    ann, out['read_annotations'] = timed(read_annotations, csv)
    if before is not None:  # cheap at every size: what the checks of the one CSV reader cost
        _, out['read_annotations_before'] = timed(before['annotations'].read_annotations, csv)
        _, out['read_submission_before'] = timed(before['submission'].read_submission,
                                                 os.path.join(root, 'submission.csv'))
    if not skip_build:
        _, out['dataset_build'] = timed(VinBigDataset, data_root=root, ann_file='train.csv',
                                        data_prefix=dict(img='train/'), pipeline=[], img_suffix='.dicom')
    table, out['class_table'] = timed(class_table, ann)
    _, out['boxes_per_image'] = timed(boxes_per_image, ann)
    _, out['plots'] = timed(save_plots, ann, os.path.join(root, 'plots'), 0.4, table)
    agreement, out['agreement'] = timed(reader_agreement, ann)
    truth, out['ground_truth'] = timed(ground_truth_from_csv, csv)
    preds, out['read_submission'] = timed(read_submission, os.path.join(root, 'submission.csv'))
    result, out['kaggle_map'] = timed(kaggle_map, preds, truth)
    out['mAP'] = result['mAP']
    if before is not None and before.get('slow', True):
        old_agreement, out['agreement_before'] = timed(before['analysis'].reader_agreement, ann)
        old_result, out['kaggle_map_before'] = timed(before['kaggle_map'].kaggle_map, preds, truth)
        out['same_agreement'] = all(abs(old_agreement[c] - agreement[c]) < 1e-12 for c in agreement) and \
            set(old_agreement) == set(agreement)
        out['same_map'] = abs(old_result['mAP'] - result['mAP']) < 1e-12
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', type=int, nargs='+', default=[15000, 187500])
    parser.add_argument('--rows', type=int, nargs='+', default=[67914, 1000000])
    parser.add_argument('--before-rev', default='3989ed8',
                        help="git revision for the 'before' figures of reader agreement and the metric ('' = skip)")
    parser.add_argument('--before-at-every-size', action='store_true',
                        help="also time the 'before' code at the largest size (minutes)")
    parser.add_argument('--skip-build', action='store_true', help='do not time the VinBigDataset build')
    args = parser.parse_args()
    before = None
    if args.before_rev:
        before = dict(analysis=module_at(args.before_rev, 'vinbig_mmdet/analysis/annotations.py',
                                         'vinbig_mmdet.analysis._before_annotations'),
                      kaggle_map=module_at(args.before_rev, 'vinbig_mmdet/evaluation/kaggle_map.py',
                                           'vinbig_mmdet.evaluation._before_kaggle_map'),
                      annotations=module_at(args.before_rev, 'vinbig_mmdet/datasets/annotations.py',
                                            'vinbig_mmdet.datasets._before_annotations'),
                      submission=module_at(args.before_rev, 'vinbig_mmdet/evaluation/submission.py',
                                           'vinbig_mmdet.evaluation._before_submission'))
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (n_images, n_rows) in enumerate(zip(args.images, args.rows)):
            slow = k == 0 or args.before_at_every_size
            use_before = dict(before, slow=slow) if before is not None else None
            results.append(run_size(n_images, n_rows, tmp, use_before, args.skip_build))
            print(f'done: {n_images} images', file=sys.stderr)

    def cell(r, key):
        return f'{r[key]:9.2f} s' if key in r else f'{"-":>11}'
    print(f'{"":40}' + ''.join(f'{r["images"]:>12,} img / {r["rows"]:>9,} rows' for r in results))
    lines = [('read_annotations', 'read_annotations'), ('read_annotations, before', 'read_annotations_before'),
             ('VinBigDataset build', 'dataset_build'),
             ('analyze: class table (agreement incl.)', 'class_table'), ('analyze: boxes per image', 'boxes_per_image'),
             ('analyze: the four plots', 'plots'), ('reader agreement', 'agreement'),
             ('reader agreement, before', 'agreement_before'), ('evaluate: ground truth (WBF)', 'ground_truth'),
             ('evaluate: read_submission', 'read_submission'),
             ('evaluate: read_submission, before', 'read_submission_before'), ('evaluate: kaggle_map', 'kaggle_map'),
             ('evaluate: kaggle_map, before', 'kaggle_map_before')]
    for label, key in lines:
        print(f'{label:40}' + ''.join(f'{cell(r, key):>33}' for r in results))
    for r in results:
        if 'agreement_before' in r:
            print(f'{r["images"]:,} images: reader agreement {r["agreement_before"] / r["agreement"]:.0f}x faster, '
                  f'same result: {r["same_agreement"]}; kaggle_map {r["kaggle_map_before"] / r["kaggle_map"]:.1f}x '
                  f'faster, same mAP: {r["same_map"]} ({r["mAP"]:.4f})')


if __name__ == '__main__':
    main()
