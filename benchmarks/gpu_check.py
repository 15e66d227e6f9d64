"""The GPU check behind benchmarks/gpu_check.sh: one command, generated data only, its own time budget.

Sections (each a subprocess with its own time limit; a failed section is recorded and the next one runs):
  cuda_ops      mmcv.ops with CUDA: nms, RoIAlign and deform_conv2d run on the GPU
  data          tools/make_demo_data.py (1.1-1.8k px DICOMs) -> tools/make_folds.py -> tools/prepare_data.py
                (1024 px PNGs, what a GPU run should train from)
  train_*       tools/train.py, the main config and the short COCO-start config, fp32 and --amp, one epoch at
                1024 px (offline: no ImageNet, no COCO download), every iteration logged
  test_*        tools/test.py with and without --tta on the test images, with the main fp32 run's checkpoint

Figures come from MMEngine's own log lines (``time``, ``data_time``, ``memory`` = torch.cuda.max_memory_allocated),
the first iterations (start-up, cuDNN autotuning) left out. The results land in OUT: table.md (the table, also
printed), results.json, sections.log (every section's full output). Data, checkpoints and work dirs go to --work.

    python3 benchmarks/gpu_check.py --out OUT [--work DIR] [--budget 420] [--dry-run]

--dry-run: on the CPU at a tiny size (64 px, a few images and iterations) to check that every section runs; the
--amp sections fail there (MMEngine's AmpOptimWrapper needs a GPU), which also shows the check going on after a
failure.
"""
import argparse
import json
import os
import os.path as osp
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Sequence

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MAIN = 'configs/vinbig_faster_rcnn.py'
SHORT = 'configs/faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py'
CONFIGS = {'main': MAIN, 'short': SHORT}
N_SPLITS = 5  # folds of the generated data; training sections train on all but fold 0
# MMDetection's model zoo, Faster R-CNN R50-FPN 1x on COCO (configs/faster_rcnn/metafile.yml): V100, 1333x800,
# training memory at 2 images per GPU, inference at batch 1 (1000 / 46.73 ms and 1000 / 34.72 ms).
MMDET_REFERENCE = dict(fp32=dict(memory_gb=4.0, infer_img_s=21.4), amp=dict(memory_gb=3.4, infer_img_s=28.8))
# One MMEngine log line of an iteration: "Epoch(train) [1][ 5/32] ... time: 0.1234  data_time: 0.0012  memory: 3456"
ITER_LINE = re.compile(r'Epoch\((train|test)\)\s+(?:\[\d+\])?\[\s*(\d+)/(\d+)\].*?\btime: ([\d.]+)\s+'
                       r'data_time: ([\d.]+)(?:\s+memory: (\d+))?')

CUDA_OPS_CHECK = r'''
import sys, torch, mmcv
from mmcv.ops import RoIAlign, deform_conv2d, get_compiler_version, get_compiling_cuda_version, nms
need_cuda = sys.argv[1] == 'cuda'
if need_cuda and not torch.cuda.is_available():
    sys.exit('CUDA is not available to torch ' + torch.__version__)
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
boxes = torch.tensor([[0., 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], device=dev)
keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7], device=dev), 0.5)[1].tolist()
assert keep == [0, 2], keep
pooled = RoIAlign((7, 7), 1.0, 0)(torch.rand(1, 4, 32, 32, device=dev), torch.tensor([[0., 0, 0, 16, 16]], device=dev))
assert pooled.shape == (1, 4, 7, 7) and pooled.device.type == dev
out = deform_conv2d(torch.rand(1, 4, 8, 8, device=dev), torch.zeros(1, 18, 8, 8, device=dev),
                    torch.rand(4, 4, 3, 3, device=dev), 1, 1)
assert out.shape == (1, 4, 8, 8)
name = torch.cuda.get_device_name() if dev == 'cuda' else 'CPU'
print(f'mmcv {mmcv.__version__} ops compiled with CUDA {get_compiling_cuda_version()} ({get_compiler_version()}); '
      f'torch {torch.__version__} (CUDA {torch.version.cuda}); nms, RoIAlign, deform_conv2d ran on {dev}: {name}')
'''


@dataclass
class Section:
    name: str
    title: str
    status: str = 'not run'  # OK, FAIL, TIMEOUT, SKIPPED
    seconds: float = 0.0
    note: str = ''
    figures: Dict[str, float] = field(default_factory=dict)


def last_error(text: str) -> str:
    """The line of a failed run's output that says why (an exception or an ``error:`` line), else the last one."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in reversed(lines):
        if re.match(r'^(error:|\w+(\.\w+)*(Error|Exception)\b)', line):
            return line[:300]
    return lines[-1][:300] if lines else ''


def run_commands(section: Section, commands: Sequence[Sequence[str]], limit: float, log, env=None) -> str:
    """Run ``commands`` one after the other within ``limit`` seconds in all; record the status; return the output.
    Each runs in its own process group, so a timeout also ends its data-loading workers."""
    start = time.time()
    output = []
    section.status = 'OK'
    for cmd in commands:
        left = limit - (time.time() - start)
        log.write(f'\n$ {" ".join(map(str, cmd))}\n')
        log.flush()
        proc = subprocess.Popen(list(map(str, cmd)), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=max(left, 1))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
            section.status = 'TIMEOUT'
            section.note = f'over its {limit:.0f} s budget'
        log.write(out)
        log.flush()
        output.append(out)
        if section.status == 'TIMEOUT':
            break
        if proc.returncode != 0:
            section.status = 'FAIL'
            section.note = last_error(out)
            break
    section.seconds = time.time() - start
    return ''.join(output)


def iteration_figures(log_text: str, mode: str, batch: int, warmup: int) -> Dict[str, float]:
    """img/s, median seconds per iteration and data wait, peak memory (GB) from MMEngine's per-iteration log lines,
    the first ``warmup`` iterations left out (as long as some remain)."""
    rows = [m for m in ITER_LINE.finditer(log_text) if m.group(1) == mode]
    if not rows:
        return {}
    measured = rows[warmup:] if len(rows) > warmup else rows[-1:]
    step = statistics.median(float(m.group(4)) for m in measured)
    figures = dict(iterations=len(measured), s_per_iter=step, img_s=batch / step,
                   data_s_per_iter=statistics.median(float(m.group(5)) for m in measured))
    memory = [int(m.group(6)) for m in rows if m.group(6)]
    if memory:
        figures['memory_gb'] = max(memory) / 1024
    return figures


def derived_config(path: str, base: str, dry_run: bool, offline: str) -> str:
    """A config file that inherits ``base`` with the offline override ``offline`` ('no_imagenet': the backbone
    starts from scratch; 'no_coco': no load_from) and, for a dry run, 64 px images and fewer RoIs."""
    model = dict(backbone=dict(init_cfg=None)) if offline == 'no_imagenet' else {}
    lines = [f"_base_ = ['{osp.join(ROOT, base)}']", '# timing only: no validation', 'val_dataloader = None',
             'val_cfg = None', 'val_evaluator = None']
    if offline == 'no_coco':
        lines.append('load_from = None')
    if dry_run:
        model.update(train_cfg=dict(rpn_proposal=dict(nms_pre=200, max_per_img=100), rcnn=dict(sampler=dict(num=64))),
                     test_cfg=dict(rpn=dict(nms_pre=200, max_per_img=100)))
        lines += ['img_scale = (64, 64)']
        for name in ('train_pipeline', 'unlabelled_pipeline'):
            lines.append(f"{name} = [dict(t, scale=img_scale) if t['type'] == 'Resize' else t "
                         f"for t in _base_.{name}]")
        lines += ['train_dataloader = dict(num_workers=1, dataset=dict(pipeline=train_pipeline))',
                  'test_dataloader = dict(num_workers=1, dataset=dict(pipeline=unlabelled_pipeline))']
    if model:
        lines.append(f'model = {model!r}')
    with open(path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return path


def format_table(sections: List[Section], header: str, batches: Sequence[int] = (2,)) -> str:
    def fig(s: Section, key: str, fmt: str) -> str:
        return format(s.figures[key], fmt) if key in s.figures else ''

    lines = [header, '',
             '| section | status | img/s | s/iter | data wait s/iter | peak memory GB | wall s | note |',
             '|---|---|---|---|---|---|---|---|']
    for s in sections:
        lines.append(f'| {s.title} | {s.status} | {fig(s, "img_s", ".2f")} | {fig(s, "s_per_iter", ".4f")} | '
                     f'{fig(s, "data_s_per_iter", ".4f")} | {fig(s, "memory_gb", ".2f")} | {s.seconds:.0f} | '
                     f'{s.note.replace("|", "/")} |')
    by_name = {s.name: s for s in sections}

    def ours(name: str, key: str) -> str:
        s = by_name.get(name)
        return format(s.figures[key], '.2f') if s and key in s.figures else 'n/a'

    ref = MMDET_REFERENCE
    lines += ['', 'Next to MMDetection\'s published Faster R-CNN R50-FPN 1x figures (V100, 1333x800, 2 images per '
              'GPU in training, batch 1 in inference; same model, about the same pixels per image as 1024x1024):', '',
              '| figure | ours fp32 | ours --amp | MMDetection fp32 | MMDetection AMP |', '|---|---|---|---|---|',
              f'| training peak memory GB, main config | {ours("train_main_fp32", "memory_gb")} | '
              f'{ours("train_main_amp", "memory_gb")} | {ref["fp32"]["memory_gb"]} | {ref["amp"]["memory_gb"]} |',
              f'| training peak memory GB, short config | {ours("train_short_fp32", "memory_gb")} | '
              f'{ours("train_short_amp", "memory_gb")} | {ref["fp32"]["memory_gb"]} | {ref["amp"]["memory_gb"]} |',
              f'| training img/s, main config | {ours("train_main_fp32", "img_s")} | '
              f'{ours("train_main_amp", "img_s")} | - | - |',
              f'| training img/s, short config | {ours("train_short_fp32", "img_s")} | '
              f'{ours("train_short_amp", "img_s")} | - | - |',
              f'| inference img/s, tools/test.py | {ours("test_plain", "img_s")} | - | '
              f'{ref["fp32"]["infer_img_s"]} | {ref["amp"]["infer_img_s"]} |',
              f'| inference img/s, tools/test.py --tta | {ours("test_tta", "img_s")} | - | - | - |']
    if len(batches) > 1:
        lines += ['', *batch_table(by_name, batches)]
    return '\n'.join(lines)


def batch_table(by_name: Dict[str, Section], batches: Sequence[int]) -> List[str]:
    """Training throughput and peak memory against the batch size, fp32 and --amp side by side."""
    lines = ['Training against the batch size (same run, same GPU):', '',
             '| config | batch | fp32 img/s | --amp img/s | --amp / fp32 | fp32 peak GB | --amp peak GB |',
             '|---|---|---|---|---|---|---|']
    for model, config in CONFIGS.items():
        for batch in batches:
            fp32, amp = (by_name.get(train_section_name(model, p, batch, batches[0])) for p in ('fp32', 'amp'))
            if fp32 is None and amp is None:
                continue
            fig = [s.figures if s else {} for s in (fp32, amp)]
            speed = [format(f['img_s'], '.2f') if 'img_s' in f else 'n/a' for f in fig]
            memory = [format(f['memory_gb'], '.2f') if 'memory_gb' in f else 'n/a' for f in fig]
            ratio = format(fig[1]['img_s'] / fig[0]['img_s'], '.2f') if all('img_s' in f for f in fig) else 'n/a'
            lines.append(f'| {osp.basename(config)} | {batch} | {speed[0]} | {speed[1]} | {ratio} | {memory[0]} | '
                         f'{memory[1]} |')
    return lines


def train_section_name(model: str, precision: str, batch: int, reference_batch: int) -> str:
    """The reference batch (the first --batch, compared with MMDetection's figures) keeps the plain name."""
    return f'train_{model}_{precision}' + ('' if batch == reference_batch else f'_b{batch}')


def training_plan(args, configs: Dict[str, str], data: str, python: str) -> list:
    """One training section per model, batch and precision; each long enough for ``--min-iters`` iterations on
    the training folds (all but one of N_SPLITS)."""
    train_images = args.n_train - args.n_train // N_SPLITS
    plan = []
    for model in args.models:
        for batch in args.batch:
            epochs = max(1, -(-args.min_iters * batch // train_images))
            for precision in ('fp32', 'amp'):
                name = train_section_name(model, precision, batch, args.batch[0])
                cmd = [python, 'tools/train.py', configs[model], '--data-path', data + '/', '--work-dir',
                       osp.join(args.work, name), '--n-epochs', epochs, '--batch-size', batch, '--log-step', 1]
                plan.append((name, f'train {osp.basename(CONFIGS[model])} {precision}, batch {batch}',
                             max(100, 60 + 3 * batch),
                             [cmd + (['--amp'] if precision == 'amp' else [])], ('train', batch)))
    return plan


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--out', required=True, help='folder for table.md, results.json and sections.log')
    parser.add_argument('--work', default=osp.join(os.environ.get('TMPDIR', '/tmp'), 'vinbig_gpu_check'),
                        help='scratch folder for data, checkpoints and work dirs (emptied first)')
    parser.add_argument('--budget', type=float, help='seconds for the whole check (default 420; dry run 900)')
    parser.add_argument('--batch', type=int, nargs='+', default=[2],
                        help='training images per iteration, one or more (default 2, as MMDetection\'s figures; '
                        'the first is the one compared with them, more add a batch-size table)')
    parser.add_argument('--models', nargs='+', choices=sorted(CONFIGS), default=['main', 'short'],
                        help='configs to train (default both: main = vinbig_faster_rcnn.py, short = the '
                        'COCO-start 24-epoch config); tools/test.py uses main\'s checkpoint')
    parser.add_argument('--min-iters', type=int, default=16,
                        help='iterations each training section runs at least (more epochs at large batches)')
    parser.add_argument('--n-train', type=int, default=80, help='generated training images (default 80: 64 in '
                        'the training folds, 32 iterations at batch 2)')
    parser.add_argument('--n-test', type=int, default=48, help='generated test images (default 48)')
    parser.add_argument('--warmup', type=int, default=5, help='first iterations left out of the figures')
    parser.add_argument('--dry-run', action='store_true', help='CPU, 64 px, few images: check that it all runs')
    args = parser.parse_args(argv)
    if args.dry_run:
        args.n_train, args.n_test, args.warmup = min(args.n_train, 6), min(args.n_test, 2), min(args.warmup, 1)
        args.min_iters = min(args.min_iters, 2)
    if args.budget is None:
        args.budget = 900 if args.dry_run else 420
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    shutil.rmtree(args.work, ignore_errors=True)
    os.makedirs(osp.join(args.work, 'configs'))
    deadline = time.time() + args.budget
    python = sys.executable
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    if args.dry_run:
        env['CUDA_VISIBLE_DEVICES'] = ''
    dicoms, data = osp.join(args.work, 'dicom'), osp.join(args.work, 'data')
    configs = {'main': derived_config(osp.join(args.work, 'configs', 'main.py'), MAIN, args.dry_run, 'no_imagenet'),
               'short': derived_config(osp.join(args.work, 'configs', 'short.py'), SHORT, args.dry_run, 'no_coco')}
    workers = str(min(os.cpu_count() or 1, 16))

    # (name, title, budget s, commands, figures: (mode, batch) or None)
    plan = [('cuda_ops', 'CUDA ops (mmcv.ops)', 60,
             [[python, '-c', CUDA_OPS_CHECK, 'cpu' if args.dry_run else 'cuda']], None),
            ('data', f'data: {args.n_train} + {args.n_test} generated DICOMs -> 1024 px PNGs', 150,
             [[python, 'tools/make_demo_data.py', '--out', dicoms, '--n-train', args.n_train, '--n-test', args.n_test,
               '--workers', workers],
              [python, 'tools/make_folds.py', '--ann', osp.join(dicoms, 'train.csv'), '--n-splits', N_SPLITS,
               '--out', osp.join(dicoms, 'folds.csv')],
              [python, 'tools/prepare_data.py', '--src', osp.join(dicoms, 'train'), '--out',
               osp.join(data, 'train'), '--workers', workers],
              [python, 'tools/prepare_data.py', '--src', osp.join(dicoms, 'test'), '--out',
               osp.join(data, 'test'), '--workers', workers],
              [python, '-c', 'import shutil, sys; [shutil.copy(f"{sys.argv[1]}/{n}", sys.argv[2]) for n in '
               '("train.csv", "folds.csv", "sample_submission.csv")]', dicoms, data]], None)]
    plan += training_plan(args, configs, data, python)
    # the test commands need the main fp32 run's checkpoint: built when their turn comes
    plan += [('test_plain', 'tools/test.py (main config, batch 1)', 80, [], ('test', 1)),
             ('test_tta', 'tools/test.py --tta (main config, batch 1)', 80, ['--tta'], ('test', 1))]

    sections: List[Section] = []
    log_path = osp.join(args.out, 'sections.log')
    with open(log_path, 'w') as log:
        for name, title, budget, commands, figures in plan:
            section = Section(name, title)
            sections.append(section)
            log.write(f'\n===== {name}: {title}\n')
            left = deadline - time.time() - 5
            if left < 15:
                section.status, section.note = 'SKIPPED', 'the whole check ran out of its time budget'
                continue
            if name.startswith('test_'):
                from vinbig_mmdet.engine.checkpoint import newest_checkpoint  # torch: only when a test runs
                ckpt = newest_checkpoint(osp.join(args.work, 'train_main_fp32'))
                if ckpt is None:
                    section.status, section.note = 'SKIPPED', 'no checkpoint: train main fp32 did not finish'
                    continue
                work_dir = osp.join(args.work, name)
                tta = commands
                commands = [[python, 'tools/test.py', configs['main'], ckpt, '--data-path', data + '/',
                             '--submission', osp.join(work_dir, 'submission.csv'), '--work-dir', work_dir,
                             '--cfg-options', 'default_hooks.logger.interval=1', *tta]]
            # a dry run shares a CPU: three times the budget of each section
            output = run_commands(section, commands, min(budget * (3 if args.dry_run else 1), left), log, env)
            if figures and section.status == 'OK':
                section.figures = iteration_figures(output, figures[0], figures[1], args.warmup)
                if not section.figures:
                    section.status, section.note = 'FAIL', 'no iteration lines in the log'
            if name == 'cuda_ops' and section.status == 'OK':
                section.note = output.strip().splitlines()[-1]
            print(f'[gpu_check] {name}: {section.status} in {section.seconds:.0f} s {section.note}', flush=True)

    import torch
    device = torch.cuda.get_device_name() if torch.cuda.is_available() and not args.dry_run else 'CPU (dry run)'
    header = (f'GPU check on {device}, torch {torch.__version__}, python {sys.version.split()[0]}; '
              f'{time.strftime("%Y-%m-%d %H:%M")}; training {", ".join(map(str, args.batch))} images per iteration at '
              f'{"64" if args.dry_run else "1024"} px, figures without the first {args.warmup} iterations')
    table = format_table(sections, header, args.batch)
    with open(osp.join(args.out, 'table.md'), 'w') as f:
        f.write(table + '\n')
    with open(osp.join(args.out, 'results.json'), 'w') as f:
        json.dump(dict(device=device, dry_run=args.dry_run, batch=args.batch, reference=MMDET_REFERENCE,
                       sections=[asdict(s) for s in sections]), f, indent=1)
    print('\n' + table)
    print(f'\n[gpu_check] {sum(s.status == "OK" for s in sections)}/{len(sections)} sections OK; '
          f'table, results.json and sections.log in {args.out}')
    return 0 if all(s.status == 'OK' for s in sections) else 1


if __name__ == '__main__':
    sys.exit(main())
