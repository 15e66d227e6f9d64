# From data to a scored, ensembled submission in one command: folds, every (detector, fold) training with its
# out-of-fold and test predictions, the classifier per fold, CV, tuned ensemble, filtered submission, summary.
import argparse
import shlex
import sys
import time

from mmengine.config import DictAction

from vinbig_mmdet.cli import run_tool
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.pipeline import build_steps, load_recipe
from vinbig_mmdet.pipeline.local import run_local
from vinbig_mmdet.pipeline.plan import format_plan
from vinbig_mmdet.pipeline.recipe import check_data
from vinbig_mmdet.pipeline.slurm import job_command, submit_slurm
from vinbig_mmdet.pipeline.state import read_marker
from vinbig_mmdet.pipeline.step import run_step


def parse_args():
    parser = argparse.ArgumentParser(
        description='Run a recipe (configs/pipeline/*.py) to the end: what is done already (its done marker '
        'matches its command and inputs) is not run again; a failed step is named with its log and the command '
        'to rerun it. Locally (one machine, its GPUs) or as SLURM jobs with dependencies (--slurm). '
        'See docs/pipeline.md.')
    parser.add_argument('recipe', help='recipe file, e.g. configs/pipeline/recipe_vinbig.py')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan (every step, done or not, and the GPU-hour estimate); run nothing')
    parser.add_argument('--commands', action='store_true', help='with --dry-run: also each step\'s command')
    parser.add_argument('--gpus', nargs='+', metavar='ID',
                        help='GPU ids of this machine (e.g. 0 1 2 3, or 0,1,2,3): that many single-GPU steps run '
                        'side by side; with gpus_per_train=N in the recipe, each training uses N of them through '
                        'tools/dist_train.sh. Default: one step at a time, on what the tools choose')
    parser.add_argument('--slurm', action='store_true',
                        help='submit every step not done as a SLURM job (sbatch --dependency=afterok) and return')
    parser.add_argument('--sbatch', default='sbatch', help='the sbatch command (default: %(default)s)')
    parser.add_argument('--sbatch-args', default='',
                        help='extra sbatch options for every job, one string after "=", e.g. '
                        '--sbatch-args="--partition=gpu --time=24:00:00"')
    parser.add_argument('--run-step', metavar='NAME', help='run this one step (what each SLURM job runs)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override recipe keys, key=value (e.g. work_dir=work_dirs/try2)')
    return parser.parse_args()


def options(args) -> list:
    """The recipe options to repeat in a SLURM job's or a rerun's command."""
    if not args.cfg_options:
        return []
    return ['--cfg-options', *(f'{k}={v}' for k, v in args.cfg_options.items())]


def main():
    args = parse_args()
    recipe = load_recipe(args.recipe, args.cfg_options)
    steps = build_steps(recipe)
    if args.dry_run:
        print(format_plan(recipe, steps, commands=args.commands))
        return 0
    check_data(recipe)
    rerun = shlex.join(['python', 'tools/pipeline.py', args.recipe, *options(args)])
    if args.run_step:
        step = next((s for s in steps if s.name == args.run_step), None)
        if step is None:
            raise InputError(f'{args.recipe} has no step {args.run_step!r}; its steps: {[s.name for s in steps]}')
        ok = run_step(recipe, step, steps)
        marker = read_marker(recipe.work_dir, step, 'done' if ok else 'failed') or {}
        print(f'{step.name}: ' + ('done' if ok else f'FAILED ({marker.get("problem")}); log: {marker.get("log")}'))
        return 0 if ok else 1
    if args.slurm:
        jobs = submit_slurm(recipe, steps, lambda s: job_command(args.recipe, options(args), s), args.sbatch,
                            shlex.split(args.sbatch_args))
        print(f'submitted {len(jobs)} job(s) ({len(steps) - len(jobs)} step(s) done already); follow them with '
              f'squeue, rerun `{rerun} --slurm` after a failure to submit what is left')
        return 0
    start = time.time()
    gpus = [g for item in args.gpus for g in item.split(',') if g] if args.gpus else None
    outcome = run_local(recipe, steps, gpus=gpus)
    return report(recipe, steps, outcome, rerun, time.time() - start)


def report(recipe, steps, outcome, rerun: str, seconds: float) -> int:
    summary = f'{recipe.work_dir}/summary.md'
    if outcome['failed']:
        print(f'\n{len(outcome["failed"])} step(s) failed ({len(outcome["blocked"])} waiting on them):',
              file=sys.stderr)
        by_name = {s.name: s for s in steps}
        for name in outcome['failed']:
            marker = read_marker(recipe.work_dir, by_name[name], 'failed') or {}
            print(f'  {name}: {marker.get("problem")}\n    log:   {marker.get("log")}\n'
                  f'    rerun: {rerun} --run-step {name}\n    its command: {marker.get("command")}', file=sys.stderr)
        print(f'after fixing, `{rerun}` runs what is left ({len(outcome["ran"])} step(s) ran now, '
              f'{len(outcome["done"])} were done)', file=sys.stderr)
        return 1
    if not outcome['ran']:
        print(f'nothing to do: all {len(steps)} steps are done; submission {recipe.work_dir}/submission.csv, '
              f'summary {summary}')
        return 0
    print(f'ran {len(outcome["ran"])} step(s) in {seconds / 60:.1f} min ({len(outcome["done"])} were done); '
          f'submission {recipe.work_dir}/submission.csv, summary {summary}')
    return 0


if __name__ == '__main__':
    run_tool(main)
