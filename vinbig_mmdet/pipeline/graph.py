"""The step graph of a recipe: one list of :class:`Step` in dependency order, which the local executor, the SLURM
executor, the plan and the summary all read. A step is a tool command (what a user would type) or a small
in-process operation of :mod:`.ops`; it names its outputs, which it writes under a partial name first
(:func:`partial`), and the files its result depends on."""
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .recipe import ModelSpec, Recipe

PYTHON = 'python'  # replaced by the running interpreter (or bash for .sh tools) when the command runs


def partial(path: str) -> str:
    """Where a step writes ``path`` until it has finished: the same folder (so the rename is atomic), the same
    extension (tools check it), a name nothing else uses."""
    head, tail = osp.split(path)
    stem, ext = osp.splitext(tail)
    return osp.join(head, f'{stem}.partial{ext}')


@dataclass
class Step:
    name: str
    kind: str  # data, folds, train, oof, test, cv, fuse, tune, classifier, merge, final, summary
    argv: List[str] = field(default_factory=list)  # a tool command, e.g. ['tools/train.py', CONFIG, ...]
    op: Optional[str] = None  # or the name of an operation in ops.OPS, called with ``kwargs``
    kwargs: dict = field(default_factory=dict)
    outputs: List[str] = field(default_factory=list)  # final paths; the step writes partial(path) first
    inputs: List[str] = field(default_factory=list)  # files (configs, data, other steps' outputs) it reads
    deps: List[str] = field(default_factory=list)  # names of the steps it needs
    gpus: int = 0
    checkpoint_from: Optional[str] = None  # train: the work dir whose last checkpoint becomes outputs[0]
    model: Optional[str] = None  # the recipe model (or 'classifier') it belongs to, for the plan and summary
    fold: Optional[int] = None

    def command(self) -> str:
        """The command line a user would type to run this step alone (as the executors run it)."""
        import shlex
        if self.argv:
            return shlex.join(([] if self.argv[0] == 'bash' else [PYTHON]) + self.argv)
        return f'{PYTHON} tools/pipeline.py RECIPE --run-step {self.name}'


def _data_args(recipe: Recipe, folds: str) -> List[str]:
    return ['--data-path', recipe.data_root + '/', '--folds-file', folds]


def _train(recipe: Recipe, model: ModelSpec, k: int, folds: str, deps: List[str], prefix: str) -> Step:
    work = osp.join(recipe.work_dir, prefix, model.name, f'fold{k}')
    args = [model.config, '--work-dir', work, '--fold', str(k), *_data_args(recipe, folds),
            '--resume', *model.train_args]  # --resume: a killed training continues from its last checkpoint
    if recipe.gpus_per_train > 1:
        argv = ['bash', 'tools/dist_train.sh', model.config, str(recipe.gpus_per_train), *args[1:]]
    else:
        argv = ['tools/train.py', *args]
    return Step(f'train.{model.name}.fold{k}', 'train' if prefix == 'models' else 'classifier', argv,
                outputs=[work + '.pth'], inputs=[model.config, recipe.train_csv, folds], deps=deps,
                gpus=recipe.gpus_per_train, checkpoint_from=work, model=model.name, fold=k)


def _detect(recipe: Recipe, model: ModelSpec, k: int, folds: str, ckpt: str, train: str, val: bool) -> Step:
    what = 'oof' if val else 'test'
    out = osp.join(recipe.work_dir, what, f'{model.name}.fold{k}.csv')
    argv = ['tools/test.py', model.config, ckpt, '--submission', partial(out), *_data_args(recipe, folds),
            '--work-dir', osp.join(recipe.work_dir, 'logs', f'{what}.{model.name}.fold{k}')]
    if val:
        argv += ['--val', '--fold', str(k)]
    if model.tta:
        argv += ['--tta'] + (['--tta-scales', *map(str, model.tta_scales)] if model.tta_scales else [])
    argv += model.test_args
    return Step(f'{what}.{model.name}.fold{k}', what, argv, outputs=[out], inputs=[model.config, ckpt, folds],
                deps=[train], gpus=1, model=model.name, fold=k)


def _classifier(recipe: Recipe, k: int, folds: str, ckpt: str, train: str, val: bool) -> Step:
    spec = recipe.classifier
    what = 'oof' if val else 'test'
    out = osp.join(recipe.work_dir, 'classifier', f'{what}.fold{k}.csv')
    argv = ['tools/predict_abnormal.py', spec.config, ckpt, '--out', partial(out), *_data_args(recipe, folds),
            '--work-dir', osp.join(recipe.work_dir, 'logs', f'classifier.{what}.fold{k}')]
    if val:
        argv += ['--val', '--fold', str(k)]
    return Step(f'classifier.{what}.fold{k}', 'classifier', argv, outputs=[out], inputs=[spec.config, ckpt, folds],
                deps=[train], gpus=1, model=spec.name, fold=k)


def build_steps(recipe: Recipe) -> List[Step]:
    """Every step of ``recipe``, each after the steps it needs."""
    wd, K = recipe.work_dir, recipe.n_folds
    steps: List[Step] = []
    data_deps: List[str] = []
    if recipe.demo_data:
        d = recipe.demo_data
        argv = ['tools/make_demo_data.py', '--out', partial(recipe.data_root)]
        for key in ('n_train', 'n_test', 'seed', 'normal_frac', 'workers'):
            if key in d:
                argv += [f'--{key.replace("_", "-")}', str(d[key])]
        if 'height_range' in d:
            argv += ['--height-range', *map(str, d['height_range'])]
        steps.append(Step('data', 'data', argv, outputs=[recipe.data_root]))
        data_deps = ['data']
    folds = osp.join(wd, 'folds.csv')
    steps.append(Step('folds', 'folds', ['tools/make_folds.py', '--ann', recipe.train_csv, '--n-splits', str(K),
                                         '--seed', str(recipe.folds_seed), '--out', partial(folds)],
                      outputs=[folds], inputs=[recipe.train_csv], deps=list(data_deps)))
    for model in recipe.models:
        for k in range(K):
            train = _train(recipe, model, k, folds, ['folds'], 'models')
            ckpt = train.outputs[0]
            steps += [train, _detect(recipe, model, k, folds, ckpt, train.name, val=True),
                      _detect(recipe, model, k, folds, ckpt, train.name, val=False)]
        oofs = [osp.join(wd, 'oof', f'{model.name}.fold{k}.csv') for k in range(K)]
        cv = osp.join(wd, 'cv', f'{model.name}.json')
        steps.append(Step(f'cv.{model.name}', 'cv', ['tools/evaluate_submission.py', *oofs, recipe.train_csv,
                                                     '--json', partial(cv)],
                          outputs=[cv], inputs=[*oofs, recipe.train_csv],
                          deps=[f'oof.{model.name}.fold{k}' for k in range(K)], model=model.name))
        tests = [osp.join(wd, 'test', f'{model.name}.fold{k}.csv') for k in range(K)]
        fused = osp.join(wd, 'test', f'{model.name}.csv')
        # The K fold models of one detector see the same test images: fused with equal weights, as one model.
        steps.append(Step(f'fuse.{model.name}', 'fuse', ['tools/ensemble.py', *tests, '--out', partial(fused),
                                                         '--skip-box-thr', str(recipe.skip_box_thr)],
                          outputs=[fused], inputs=tests, deps=[f'test.{model.name}.fold{k}' for k in range(K)],
                          model=model.name))
    names = [m.name for m in recipe.models]
    probs_oof: Optional[str] = None
    probs_test: List[str] = []
    if recipe.classifier:
        for k in range(K):
            train = _train(recipe, recipe.classifier, k, folds, ['folds'], 'classifier')
            ckpt = train.outputs[0]
            steps += [train, _classifier(recipe, k, folds, ckpt, train.name, val=True),
                      _classifier(recipe, k, folds, ckpt, train.name, val=False)]
        oof_parts = [osp.join(wd, 'classifier', f'oof.fold{k}.csv') for k in range(K)]
        probs_test = [osp.join(wd, 'classifier', f'test.fold{k}.csv') for k in range(K)]
        probs_oof = osp.join(wd, 'classifier', 'oof.csv')
        auc = osp.join(wd, 'classifier', 'oof_auc.json')
        # The folds' OOF probabilities cover disjoint images: joined, not averaged (the test ones are averaged).
        steps.append(Step('classifier.oof', 'merge', op='merge_probabilities',
                          kwargs=dict(parts=oof_parts, out=probs_oof, auc_out=auc, truth=recipe.train_csv),
                          outputs=[probs_oof, auc], inputs=[*oof_parts, recipe.train_csv],
                          deps=[f'classifier.oof.fold{k}' for k in range(K)], model=recipe.classifier.name))
    oof_models = [','.join(osp.join(wd, 'oof', f'{n}.fold{k}.csv') for k in range(K)) for n in names]
    tuned = osp.join(wd, 'ensemble', 'tuned.json')
    oof_out = osp.join(wd, 'ensemble', 'oof_filtered.csv' if probs_oof else 'oof.csv')
    argv = ['tools/ensemble.py', *oof_models, '--tune', '--ground-truth', recipe.train_csv,
            '--tune-weights', *map(str, recipe.tune_weights), '--tune-iou', *map(str, recipe.tune_iou),
            '--skip-box-thr', str(recipe.skip_box_thr), '--save-tuned', partial(tuned), '--out', partial(oof_out)]
    if probs_oof:  # the OOF fused with the chosen weights, then filtered: what the test submission will be
        argv += ['--abnormal-probs', probs_oof, '--filter-low', str(recipe.filter_low),
                 '--filter-high', str(recipe.filter_high)]
    steps.append(Step('ensemble.tune', 'tune', argv, outputs=[tuned, oof_out],
                      inputs=[p for m in oof_models for p in m.split(',')] + [recipe.train_csv]
                      + ([probs_oof] if probs_oof else []),
                      deps=[f'oof.{n}.fold{k}' for n in names for k in range(K)]
                      + (['classifier.oof'] if probs_oof else [])))
    cv_out = osp.join(wd, 'cv', 'ensemble.json')
    steps.append(Step('cv.ensemble', 'cv', ['tools/evaluate_submission.py', oof_out, recipe.train_csv,
                                            '--json', partial(cv_out)],
                      outputs=[cv_out], inputs=[oof_out, recipe.train_csv], deps=['ensemble.tune']))
    submission = osp.join(wd, 'submission.csv')
    fused = [osp.join(wd, 'test', f'{n}.csv') for n in names]
    argv = ['tools/ensemble.py', *fused, '--tuned', tuned, '--skip-box-thr', str(recipe.skip_box_thr),
            '--out', partial(submission)]
    if probs_test:
        argv += ['--abnormal-probs', *probs_test, '--filter-low', str(recipe.filter_low),
                 '--filter-high', str(recipe.filter_high)]
    steps.append(Step('submission', 'final', argv, outputs=[submission], inputs=[*fused, tuned, *probs_test],
                      deps=[f'fuse.{n}' for n in names] + ['ensemble.tune']
                      + [f'classifier.test.fold{k}' for k in range(K) if probs_test]))
    summary = osp.join(wd, 'summary.md')
    steps.append(Step('summary', 'summary', op='write_summary', kwargs=dict(out=summary),
                      outputs=[summary], inputs=[o for s in steps for o in s.outputs if s.kind != 'data'],
                      deps=[s.name for s in steps]))
    check_graph(steps)
    return steps


def check_graph(steps: List[Step]) -> Dict[str, Step]:
    """Names are unique and every dependency comes earlier (the list is a topological order)."""
    seen: Dict[str, Step] = {}
    for step in steps:
        assert step.name not in seen, f'step {step.name} twice'
        missing = [d for d in step.deps if d not in seen]
        assert not missing, f'step {step.name} needs {missing}, which do not come before it'
        seen[step.name] = step
    return seen
