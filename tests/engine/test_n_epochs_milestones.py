"""--n-epochs moves the LR steps with the end of training: a 24-epoch config cut to 12 epochs used to keep its
steps at 16 and 22, so the LR never decayed. The change is reported for the run's log."""
from argparse import Namespace

from mmengine.config import Config

from tests.helpers import ROOT
from vinbig_mmdet.engine.config_utils import apply_train_shortcuts, scale_milestones

FINETUNE = ROOT / 'configs' / 'faster-rcnn_r50_fpn_coco-pretrained_24e_vinbig.py'
MAIN = ROOT / 'configs' / 'vinbig_faster_rcnn.py'


def flags(**kw):
    return Namespace(**kw)


def steps(cfg):
    return [s for s in cfg.param_scheduler if s.type == 'MultiStepLR'][0]


def test_a_24e_config_cut_to_12_epochs_decays_at_the_same_fractions():
    cfg = Config.fromfile(FINETUNE)
    assert steps(cfg).milestones == [16, 22]
    notes = apply_train_shortcuts(cfg, flags(n_epochs=12))
    assert cfg.train_cfg.max_epochs == 12 and steps(cfg).end == 12
    assert steps(cfg).milestones == [8, 11]
    assert len(notes) == 1 and '[16, 22]' in notes[0] and '[8, 11]' in notes[0] and '--step-size' in notes[0]


def test_step_size_still_wins_and_the_same_length_changes_nothing():
    cfg = Config.fromfile(MAIN)
    apply_train_shortcuts(cfg, flags(n_epochs=40, step_size=10))
    assert steps(cfg).milestones == [10, 20, 30]
    cfg = Config.fromfile(FINETUNE)
    assert apply_train_shortcuts(cfg, flags(n_epochs=24)) == [] and steps(cfg).milestones == [16, 22]


def test_scaled_steps_stay_inside_the_run():
    assert scale_milestones([30, 60, 90], 100, 50) == [15, 30, 45]
    assert scale_milestones([16, 22], 24, 1) == []  # a one-epoch check run: no step would ever take effect
    assert scale_milestones([16, 22], 24, 48) == [32, 44]
