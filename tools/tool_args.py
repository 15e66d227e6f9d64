# The flags the tools share: MMDetection's launcher flags, and where the data are (data root, folds, original
# sizes, config overrides). A module next to the tools, not in the package: importing vinbig_mmdet imports torch
# and MMEngine, and train.py/test.py must set CUDA_VISIBLE_DEVICES (--device) before that.
import argparse
import os
from typing import Callable, Optional

from mmengine.config import DictAction  # imports no torch


def add_launcher_args(parser: argparse.ArgumentParser) -> None:
    """``--launcher`` and ``--local_rank`` (``--local-rank`` is what torch.distributed.launch passes)."""
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launched_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse; a rank given as ``--local-rank`` (older launchers) is exported as LOCAL_RANK, as MMDetection does."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def add_data_args(parser, fold_help: str, meta_help: Optional[str] = None) -> None:
    """``--data-path``, ``--ann-file`` (the training and validation loaders' annotations), ``--fold`` (what it
    picks is the tool's: ``fold_help``), ``--folds-file``, ``--meta-file``
    (where ``meta_help`` says what it sizes) and ``--cfg-options``, read by ``engine.config_utils.load_config``.
    ``parser``: a parser or an argument group."""
    parser.add_argument('--data-path', help='data root (train.csv, train/, test/, folds.csv; same as --cfg-options '
                        'data_root=DIR)')
    parser.add_argument('--ann-file', help='the training annotations (train.csv, or the PhysioNet release\'s '
                        'annotations_train.csv), e.g. outside the image folder; default: found in the data root '
                        '(train.csv, or annotations/annotations_train.csv). Without a folds file the folds are made in '
                        'memory (logged)')
    parser.add_argument('--fold', type=int, help=fold_help)
    parser.add_argument('--folds-file', help='folds CSV from tools/make_folds.py (default: DATA/folds.csv); use it '
                        'when the data folder is read-only')
    if meta_help:
        parser.add_argument('--meta-file', help=f'original sizes of {meta_help} (image_id,width,height or '
                            'image_id,dim0,dim1); default: found by its usual name (data/README.md)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings in the config, key=value (as in MMDetection); fold=K and '
                        'data_root=DIR act like --fold and --data-path')


def add_device_arg(parser) -> None:
    parser.add_argument('--device', help='cpu, cuda or cuda:N (one GPU, numbered as nvidia-smi shows them)')


def run_launched(main: Callable[[argparse.Namespace], Optional[int]], args: argparse.Namespace) -> None:
    """``main(args)`` as train.py and test.py run: ``--device`` applied before anything imports torch (CUDA reads
    CUDA_VISIBLE_DEVICES once, when it starts; ``check_device`` checks it after), every rank's process group torn
    down at exit, also after an error, and bad input one message with exit status 1 (``vinbig_mmdet.cli.run_tool``)."""
    device = getattr(args, 'device', None) or ''
    if device == 'cpu' or device.startswith('cuda:'):
        os.environ['CUDA_VISIBLE_DEVICES'] = '' if device == 'cpu' else device[len('cuda:'):]
    from vinbig_mmdet.cli import run_tool
    from vinbig_mmdet.engine.distributed import process_group_teardown
    with process_group_teardown():
        run_tool(lambda: main(args))
