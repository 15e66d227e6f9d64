# Check a training run's data before it starts: build the config's data sets and decode every image once.
import argparse
import sys

from mmengine.config import Config, DictAction

from vinbig_mmdet.cli import error_message, run_tool
from vinbig_mmdet.engine.config_utils import set_data_root
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.io.check import check_images

LOADERS = {'train': 'train_dataloader', 'val': 'val_dataloader', 'test': 'test_dataloader'}


def parse_args():
    parser = argparse.ArgumentParser(
        description='Build the data sets of CONFIG (annotations, folds, sizes, image files) and decode every image '
        'once, with progress. Lists every problem (file and reason); exit status 1 if there is any. Run it before a '
        'long training: a bad image met during training stops the run.')
    parser.add_argument('config')
    parser.add_argument('--data-path', help='data root (overrides the config)')
    parser.add_argument('--splits', nargs='+', choices=list(LOADERS), default=list(LOADERS),
                        help='which loaders to check (default: train val test)')
    parser.add_argument('--workers', type=int, help='processes (default: all cores)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help='override settings, key=value')
    return parser.parse_args()


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)  # imports custom_imports (vinbig_mmdet)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.data_path:
        set_data_root(cfg, args.data_path)
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
