"""tools/report.py's config table works on every shipped config: Cascade R-CNN keeps a list of box heads, TOOD and
the image classifier have no roi_head (the table used to read cfg.model.roi_head.bbox_head.num_classes)."""
import pytest
from mmengine.config import Config

from tests.helpers import ROOT, call_tool
from vinbig_mmdet.analysis.report import config_summary

CONFIGS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / 'configs').glob('*.py'))
EXPECTED_CLASSES = {'cascade-rcnn': '14 (each of 3 stages)', 'tood': '14', 'faster-rcnn': '14',
                    'vinbig_faster_rcnn_22cls': '22', 'vinbig_faster': '14', 'abnormality-classifier': 'image-level'}


@pytest.mark.parametrize('config', CONFIGS)
def test_config_summary_of_every_shipped_config(config):
    rows = dict(config_summary(Config.fromfile(ROOT / config)))
    expected = next(v for k, v in EXPECTED_CLASSES.items() if (ROOT / config).name.startswith(k))
    assert rows['classes'].startswith(expected), rows
    assert 'epochs' in rows['schedule'] and rows['batch per GPU'].isdigit()


def test_report_tool_on_a_run_without_roi_head(tmp_path):
    """The tool itself, on a TOOD run folder with nothing logged yet: a page, not an AttributeError."""
    out = tmp_path / 'report.html'
    proc = call_tool('tools/report.py', tmp_path, '--config', 'configs/tood_r50_fpn_coco-pretrained_24e_vinbig.py',
                     '--out', out, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'TOOD' in out.read_text()
