"""A config of an earlier version (keep_negatives=) is refused through the tools with the replacement named."""
from tests.helpers import TINY, call_tool, refused


def test_keep_negatives_in_a_config_names_filter_cfg(demo_root):
    proc = call_tool('tools/check_data.py', TINY, '--data-path', demo_root, '--splits', 'train', '--cfg-options',
                     'train_dataloader.dataset.keep_negatives=False', check=False)
    refused(proc, 'keep_negatives=False is replaced', 'filter_cfg=dict(filter_empty_gt=True)')
