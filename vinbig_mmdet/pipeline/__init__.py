"""From data to a scored, ensembled submission in one command (tools/pipeline.py): the recipe file
(:mod:`.recipe`), its step graph (:mod:`.graph`, the one data structure every executor uses), the done markers
that make a rerun resume (:mod:`.state`), running one step (:mod:`.step`), the executors (:mod:`.local`,
:mod:`.slurm`), the dry-run plan with its GPU-hour estimate (:mod:`.plan`) and the summary page (:mod:`.ops`)."""
from .graph import Step, build_steps
from .recipe import Recipe, load_recipe

__all__ = ['Recipe', 'Step', 'build_steps', 'load_recipe']
