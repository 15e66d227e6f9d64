"""NonFiniteLossHook stops training on a NaN or infinite loss, naming the iteration, the images and the last
good checkpoint."""
import pytest
import torch
from mmdet.structures import DetDataSample

from vinbig_mmdet.engine.hooks import NonFiniteLossHook


class FakeHub:
    def get_info(self, key, default=None):
        return 'work/epoch_3.pth' if key == 'last_ckpt' else default


class FakeRunner:
    iter, epoch, message_hub = 41, 2, FakeHub()


def test_non_finite_loss_names_iteration_and_images():
    hook = NonFiniteLossHook()
    samples = [DetDataSample(metainfo=dict(img_id='abc')), DetDataSample(metainfo=dict(img_id='def'))]
    hook.after_train_iter(FakeRunner(), 5, dict(data_samples=samples), dict(loss=torch.tensor(0.7)))  # fine
    for bad in (float('nan'), float('inf')):
        with pytest.raises(FloatingPointError, match=r"iteration 42 \(epoch 3.*\['abc', 'def'\].*epoch_3\.pth"):
            hook.after_train_iter(FakeRunner(), 5, dict(data_samples=samples), dict(loss=torch.tensor(bad)))


def test_a_run_without_a_loss_output_is_left_alone():
    NonFiniteLossHook().after_train_iter(FakeRunner(), 0, None, None)


def test_an_unscaled_learning_rate_is_named_with_the_flag_that_scales_it():
    from mmengine.config import Config
    runner = FakeRunner()
    runner.cfg = Config(dict(train_dataloader=dict(batch_size=2), auto_scale_lr=dict(enable=False, base_batch_size=16)))
    nan = dict(loss=torch.tensor(float('nan')))
    with pytest.raises(FloatingPointError, match=r'total batch of 16 images and this run has 2: add --auto-scale-lr'):
        NonFiniteLossHook().after_train_iter(runner, 0, None, nan)
    for scaling in (dict(enable=True, base_batch_size=16), dict(enable=False, base_batch_size=2), {}):
        runner.cfg.auto_scale_lr = scaling  # scaled, already right, or no reference batch: no pointer
        with pytest.raises(FloatingPointError) as err:
            NonFiniteLossHook().after_train_iter(runner, 0, None, nan)
        assert 'auto-scale-lr' not in str(err.value)
