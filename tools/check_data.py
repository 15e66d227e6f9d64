# Check a training run's data before it starts: build the config's data sets and decode every image once.
import argparse
import sys

from tool_args import add_data_args

from vinbig_mmdet.cli import error_message, run_tool
from vinbig_mmdet.engine.config_utils import config_from_args, set_meta_file
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.io.check import check_images

LOADERS = {'train': 'train_dataloader', 'val': 'val_dataloader', 'test': 'test_dataloader'}


def parse_args():
    parser = argparse.ArgumentParser(
        description='Build the data sets of CONFIG (annotations, folds, sizes, image files) and decode every image '
        'once, with progress. Lists every problem (file and reason); exit status 1 if there is any. Run it before a '
        'long training: a bad image met during training stops the run.')
    parser.add_argument('config')
    add_data_args(parser, fold_help='the fold tools/train.py --fold K would validate on',
                  meta_help='the training PNGs, as tools/train.py --meta-file')
    parser.add_argument('--test-meta-file', help='original sizes of the test PNGs, as tools/test.py --meta-file '
                        '(e.g. test_meta.csv of the 1024 px PNG set)')
    parser.add_argument('--splits', nargs='+', choices=list(LOADERS), default=list(LOADERS),
                        help='which loaders to check (default: train val test)')
    parser.add_argument('--workers', type=int, help='processes (default: all cores)')
    return parser.parse_args()


def main():
    args = parse_args()
    # the data sets exactly as tools/train.py builds them (the same flags, the same config loading)
    cfg = config_from_args(args)
    if args.meta_file:
        set_meta_file(cfg, args.meta_file, ['train_dataloader', 'val_dataloader'])
    if args.test_meta_file:
        set_meta_file(cfg, args.test_meta_file, ['test_dataloader'])
    from mmengine.registry import DATASETS, init_default_scope
    init_default_scope(cfg.get('default_scope', 'mmdet'))

    paths, counts, problems = {}, [], []
    for split in args.splits:
        if not cfg.get(LOADERS[split]):
            continue
        try:
            dataset = DATASETS.build(cfg[LOADERS[split]].dataset)
        except (InputError, FileNotFoundError) as exc:
            problems.append(f'{split} data set: {error_message(exc)}')
            continue
        images = [dataset.get_data_info(i)['img_path'] for i in range(len(dataset))]
        counts.append(f'{split} {len(images)}')
        paths.update(dict.fromkeys(images))
    failures = check_images(list(paths), args.workers)
    for message in problems:
        print(f'FAILED  {message}', file=sys.stderr)
    for path, reason in failures:
        print(f'FAILED  {path}: {reason}', file=sys.stderr)
    print(f'{len(paths)} images decoded ({", ".join(counts) or "no data set built"}): {len(failures)} unreadable'
          f'{f", {len(problems)} data set(s) that could not be built" if problems else ""}')
    return 1 if failures or problems else 0


if __name__ == '__main__':
    run_tool(main)
