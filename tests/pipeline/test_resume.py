"""Resume and honesty, on fake steps: a done step is not run again, a changed input reruns it and what follows,
a failed step is named with its log and blocks only its dependents, a killed step leaves nothing under a final
name and completes on the next run."""
import json
import os

import pytest

from tests.pipeline.fake import fake_recipe, fake_steps, python_runner
from vinbig_mmdet.pipeline.local import run_local
from vinbig_mmdet.pipeline.state import marker_path, status


def test_second_run_runs_nothing(tmp_path):
    recipe, calls = fake_recipe(tmp_path), []
    first = run_local(recipe, fake_steps(tmp_path), python_runner(calls), echo=lambda s: None)
    assert first['ran'] == list('abcd') and len(calls) == 4
    assert (tmp_path / 'work' / 'd.txt').read_text().count('source') == 2
    marker = json.loads(open(marker_path(recipe.work_dir, fake_steps(tmp_path)[3])).read())
    assert marker['signature'] and marker['wall_s'] >= 0 and marker['log'].endswith('d.log')
    second = run_local(recipe, fake_steps(tmp_path), python_runner(calls), echo=lambda s: None)
    assert second['ran'] == [] and second['done'] == list('abcd') and len(calls) == 4


def test_changed_input_reruns_it_and_what_follows(tmp_path):
    recipe, calls = fake_recipe(tmp_path), []
    run_local(recipe, fake_steps(tmp_path), python_runner(calls), echo=lambda s: None)
    (tmp_path / 'src.txt').write_text('edited\n')
    steps = fake_steps(tmp_path)
    assert status(recipe.work_dir, steps[0]) == 'stale'
    again = run_local(recipe, steps, python_runner(calls), echo=lambda s: None)
    assert again['ran'] == list('abcd')
    assert 'edited' in (tmp_path / 'work' / 'd.txt').read_text()


def test_failure_is_named_and_blocks_only_dependents(tmp_path):
    recipe, calls, lines = fake_recipe(tmp_path), [], []
    out = run_local(recipe, fake_steps(tmp_path, fail='b'), python_runner(calls), echo=lines.append)
    assert out == {'ran': ['a', 'c'], 'done': [], 'failed': ['b'], 'blocked': ['d']}
    failed = json.loads(open(marker_path(recipe.work_dir, fake_steps(tmp_path)[1], 'failed')).read())
    assert failed['problem'] == 'exit status 1' and 'fake failure' in open(failed['log']).read()
    assert 'fake_tool.py' in failed['command']
    assert any('b: FAILED' in line and failed['log'] in line for line in lines)
    assert not (tmp_path / 'work' / 'b.txt').exists() and not (tmp_path / 'work' / 'b.partial.txt').exists()
    assert status(recipe.work_dir, fake_steps(tmp_path)[1]) == 'failed'
    fixed = run_local(recipe, fake_steps(tmp_path), python_runner(calls), echo=lambda s: None)
    assert fixed['ran'] == ['b', 'd'] and fixed['done'] == ['a', 'c']


def test_killed_step_leaves_no_final_file_and_completes_on_rerun(tmp_path):
    recipe, calls = fake_recipe(tmp_path), []
    with pytest.raises(KeyboardInterrupt):
        run_local(recipe, fake_steps(tmp_path, interrupt='c'), python_runner(calls), echo=lambda s: None)
    work = tmp_path / 'work'
    assert (work / 'c.partial.txt').exists() and not (work / 'c.txt').exists()  # half-written, not final
    assert not os.path.exists(marker_path(recipe.work_dir, fake_steps(tmp_path)[2]))
    rerun = run_local(recipe, fake_steps(tmp_path), python_runner(calls), echo=lambda s: None)
    assert rerun['ran'] == ['c', 'd'] and rerun['done'] == ['a', 'b']
    assert not (work / 'c.partial.txt').exists() and (work / 'c.txt').read_text().endswith('c.partial.txt\n')


def test_several_gpus_run_steps_side_by_side(tmp_path):
    recipe, calls = fake_recipe(tmp_path), []
    out = run_local(recipe, fake_steps(tmp_path), python_runner(calls), gpus=['0', '1'], echo=lambda s: None)
    assert sorted(out['ran']) == list('abcd')
    envs = {argv[1].split('/')[-1]: env['CUDA_VISIBLE_DEVICES'] for argv, env in calls}
    assert envs['a.partial.txt'] == '' and envs['d.partial.txt'] == ''  # CPU steps see no GPU
    assert {envs['b.partial.txt'], envs['c.partial.txt']} <= {'0', '1'}


def test_training_resumes_only_its_own_checkpoints(tmp_path):
    """A killed training continues from its checkpoints (same inputs); a training whose config changed starts
    over: the old work dir is moved aside, not resumed from."""
    from vinbig_mmdet.pipeline.graph import Step
    from vinbig_mmdet.pipeline.step import run_step
    recipe, cfg, work = fake_recipe(tmp_path), tmp_path / 'cfg.py', tmp_path / 'work' / 'm' / 'fold0'
    cfg.write_text('lr = 1\n')
    tool = tmp_path / 'train.py'  # a fake training: one checkpoint per call, after those already there
    tool.write_text('import os, sys\nw = sys.argv[1]\nn = len([f for f in os.listdir(w) if f.endswith(".pth")])\n'
                    'open(f"{w}/epoch_{n + 1}.pth", "w").write("x")\n'
                    'open(f"{w}/last_checkpoint", "w").write(f"{w}/epoch_{n + 1}.pth")\n')
    step = Step('train.m.fold0', 'train', [str(tool), str(work)], outputs=[str(work) + '.pth'], inputs=[str(cfg)],
                checkpoint_from=str(work))
    calls = []
    assert run_step(recipe, step, [step], python_runner(calls))
    os.remove(marker_path(recipe.work_dir, step))  # as if killed after its first epoch
    assert run_step(recipe, step, [step], python_runner(calls))
    assert sorted(os.listdir(work)) == ['epoch_1.pth', 'epoch_2.pth', 'last_checkpoint', 'pipeline_signature.txt']
    cfg.write_text('lr = 2\n')
    assert run_step(recipe, step, [step], python_runner(calls))
    assert sorted(f for f in os.listdir(work) if f.endswith('.pth')) == ['epoch_1.pth']
    assert os.path.isfile(f'{work}.previous/epoch_2.pth')
