"""Seeing a run: curves, PR curves and confusion, and a self-contained HTML report rendered in Chromium."""
import re
import shutil
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.tools.test_train_e2e import TINY, run_tool


def test_plot_curves(trained, tmp_path):
    work, _, _ = trained
    out = tmp_path / 'curves.png'
    run_tool('tools/plot_curves.py', work, '--out', out)
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 500 and img.std() > 10


def test_eval_plots_from_test_and_from_a_submission(trained, demo_root, tmp_path):
    work, _, _ = trained
    sub = tmp_path / 'val.csv'
    run_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', demo_root, '--val', '--submission', sub,
             '--eval-plots', tmp_path / 'plots', '--work-dir', tmp_path / 'w')
    pr = pd.read_json(tmp_path / 'plots' / 'pr_curves.json', typ='series')
    assert 0 <= pr['mAP'] <= 1 and 'No finding' in pr['classes']
    confusion = pd.read_csv(tmp_path / 'plots' / 'confusion.csv')
    assert {'class_id', 'class'} <= set(confusion.columns)
    assert cv2.imread(str(tmp_path / 'plots' / 'pr_curves.png')) is not None
    run_tool('tools/evaluate_submission.py', sub, demo_root / 'train.csv', '--plots', tmp_path / 'p2')
    assert (tmp_path / 'p2' / 'confusion.csv').is_file()


def chromium():
    return shutil.which('chromium') or shutil.which('chromium-browser')


def test_report_is_self_contained_and_renders(trained, demo_root, tmp_path):
    work, _, _ = trained
    sub = tmp_path / 'val.csv'
    run_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', demo_root, '--val', '--submission', sub,
             '--work-dir', tmp_path / 'w')
    page = tmp_path / 'report.html'
    run_tool('tools/report.py', work, '--submission', sub, '--config', TINY, '--data-path', demo_root,
             '--score-thr', 0.05, '--out', page)
    text = page.read_text()
    sources = re.findall(r'(?:src|href)="([^"]*)"', text)
    assert len(sources) >= 4 and all(s.startswith('data:image/png;base64,') for s in sources)
    assert 'http://' not in text and 'https://' not in text and '@import' not in text
    for heading in ('Configuration', 'Training curves', 'Validation AP@0.4 per class', 'Precision-recall',
                    'Best validation cases', 'Worst validation cases'):
        assert heading in text

    if chromium() is None:
        pytest.skip('chromium is not installed (make test installs it from the OS packages)')
    shot = tmp_path / 'shot.png'
    subprocess.run([chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                    '--disable-background-networking', '--disable-component-update', '--disable-sync',
                    f'--user-data-dir={tmp_path / "profile"}', '--hide-scrollbars', '--window-size=1400,8000',
                    f'--screenshot={shot}', page.as_uri()], check=True, capture_output=True, timeout=120)
    img = cv2.imread(str(shot))
    assert img is not None
    # the matplotlib curves are drawn: their default blue (31, 119, 180) is on the page
    blue = (np.abs(img.astype(int) - [180, 119, 31]).sum(axis=2) < 40).sum()
    assert blue > 500
    # the radiographs are drawn: large connected areas of mid-grey, which text and tables do not have (a count, not
    # a page fraction: how much the drawn boxes and labels cover depends on the briefly trained model)
    b, g, r = (img[:, :, k].astype(int) for k in range(3))
    grey = (np.abs(b - g) < 6) & (np.abs(g - r) < 6) & (b > 40) & (b < 200)
    _, _, stats, _ = cv2.connectedComponentsWithStats(grey.astype(np.uint8), connectivity=4)
    radiographs = int((stats[1:, cv2.CC_STAT_AREA] > 30_000).sum())
    assert radiographs >= 2, f'{radiographs} radiographs rendered (areas {sorted(stats[1:, 4])[-5:]})'
