"""Seeing a run: curves, PR curves and confusion, and a self-contained HTML report rendered in Chromium."""
import base64
import re
import shutil
import subprocess

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.helpers import TINY, call_tool, run_tool

pytestmark = pytest.mark.e2e


def test_plot_curves(trained, tmp_path):
    work, _, _ = trained
    out = tmp_path / 'curves.png'
    run_tool('tools/plot_curves.py', work, '--out', out)  # the real command line, a new process
    img = cv2.imread(str(out))
    assert img is not None and img.shape[0] > 500 and img.std() > 10


def test_eval_plots_from_test_and_from_a_submission(trained, demo_root, tmp_path):
    work, _, _ = trained
    sub = tmp_path / 'val.csv'
    call_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', demo_root, '--val', '--submission', sub,
              '--eval-plots', tmp_path / 'plots', '--work-dir', tmp_path / 'w')
    pr = pd.read_json(tmp_path / 'plots' / 'pr_curves.json', typ='series')
    assert 0 <= pr['mAP'] <= 1 and 'No finding' in pr['classes']
    confusion = pd.read_csv(tmp_path / 'plots' / 'confusion.csv')
    assert {'class_id', 'class'} <= set(confusion.columns)
    assert cv2.imread(str(tmp_path / 'plots' / 'pr_curves.png')) is not None
    call_tool('tools/evaluate_submission.py', sub, demo_root / 'train.csv', '--plots', tmp_path / 'p2')
    assert (tmp_path / 'p2' / 'confusion.csv').is_file()


def chromium():
    return shutil.which('chromium') or shutil.which('chromium-browser')


def test_report_is_self_contained_and_renders(trained, demo_root, tmp_path):
    work, _, _ = trained
    sub = tmp_path / 'val.csv'
    # out-of-fold predictions of fold 1 (the run validated on fold 0): the report takes the fold as test.py does
    call_tool('tools/test.py', TINY, work / 'epoch_3.pth', '--data-path', demo_root, '--val', '--fold', 1,
              '--submission', sub, '--work-dir', tmp_path / 'w')
    page = tmp_path / 'report.html'
    run_tool('tools/report.py', work, '--submission', sub, '--config', TINY, '--data-path', demo_root, '--fold', 1,
             '--score-thr', 0.05, '--out', page)  # the real command line, a new process
    text = page.read_text()
    # the same submission against another fold: an error naming the fix, not a report of nothing
    proc = call_tool('tools/report.py', work, '--submission', sub, '--config', TINY, '--data-path', demo_root,
                     '--out', tmp_path / 'wrong.html', check=False)
    assert proc.returncode == 1 and 'in neither validation fold 0 nor the test set' in proc.stderr, proc.stderr[-2000:]
    assert 'Traceback' not in proc.stderr and not (tmp_path / 'wrong.html').exists()
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
    # the validation cases are drawn where the page puts them: each embedded case image, scaled to its card's 380 CSS
    # px, is found in the screenshot (found, not counted by colour: the boxes of a briefly trained model vary)
    cases = [decode_data_uri(s) for s in re.findall(r'<div class="card"><img alt="[^"]*" src="([^"]*)"', text)]
    assert len(cases) >= 2
    page_grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    scores = [float(cv2.matchTemplate(page_grey, scaled_to_width(case, 380), cv2.TM_CCOEFF_NORMED).max())
              for case in cases]
    assert min(scores) > 0.9, f'case images found in the screenshot with correlations {scores}'


def decode_data_uri(uri: str) -> np.ndarray:
    data = base64.b64decode(uri.split(',', 1)[1])
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)


def scaled_to_width(img: np.ndarray, width: int) -> np.ndarray:
    return cv2.resize(img, (width, round(img.shape[0] * width / img.shape[1])), interpolation=cv2.INTER_AREA)
