"""tools/draw_submission.py: the README's picture (one radiograph, ground truth and predictions) from a submission
and its ground truth, in-process, on the session's demo data; a perfect submission stands in for a model."""
import cv2
import pandas as pd

from tests.helpers import ROOT, call_tool, refused


def perfect_submission(demo_root, path):
    """Every test finding as a prediction scored 0.9 (what a model that matches the truth would write)."""
    ann = pd.read_csv(demo_root / 'test_annotations.csv', dtype={'image_id': str})
    rows = []
    for image_id, group in ann.groupby('image_id'):
        found = group[group['class_id'] != 14]
        text = ' '.join(f'{int(r.class_id)} 0.9 {r.x_min} {r.y_min} {r.x_max} {r.y_max}' for r in found.itertuples())
        rows.append((image_id, text or '14 1 0 0 1 1'))
    pd.DataFrame(rows, columns=['image_id', 'PredictionString']).to_csv(path, index=False)
    return ann


def test_draws_the_best_matched_image_small(demo_root, tmp_path):
    sub, out = tmp_path / 'sub.csv', tmp_path / 'docs' / 'demo.png'
    ann = perfect_submission(demo_root, sub)
    run = call_tool('tools/draw_submission.py', sub, demo_root / 'test_annotations.csv', '--images',
                    demo_root / 'test', '--out', out, '--max-side', 200)
    img = cv2.imread(str(out))
    assert img is not None and max(img.shape[:2]) <= 200 and img.std() > 5
    image_id = run.stdout.split('(')[1].split(',')[0]
    assert (ann.loc[ann['image_id'] == image_id, 'class_id'] != 14).any(), run.stdout


def test_an_image_outside_the_submission_is_refused(demo_root, tmp_path):
    sub = tmp_path / 'sub.csv'
    perfect_submission(demo_root, sub)
    proc = call_tool('tools/draw_submission.py', sub, demo_root / 'test_annotations.csv', '--images',
                     demo_root / 'test', '--image-id', 'nope', '--out', tmp_path / 'x.png', check=False)
    refused(proc, '--image-id nope')


def test_the_readme_picture_is_a_small_png():
    picture = ROOT / 'docs' / 'images' / 'demo.png'
    assert picture.stat().st_size < 200_000
    img = cv2.imread(str(picture))
    assert img is not None and max(img.shape[:2]) <= 640
