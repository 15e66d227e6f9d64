"""DICOM folder -> PNG folder + metadata CSV, in parallel, resumable, never stopped by a bad file.

Output in ``out``: ``<image_id>.png`` (image_id = the DICOM file's stem), ``meta.csv`` (image_id, width, height in
original pixels, png_width, png_height, photometric_interpretation, transfer_syntax, rows, columns, bits_stored)
and ``failures.csv`` (image_id, path, reason) when something failed. Every file is written under a temporary name
and renamed, so a killed run leaves no broken PNG or CSV under a final name; a rerun skips finished images.
"""
import os
import os.path as osp
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Dict, List, Optional, Tuple

import cv2
import pandas as pd
from PIL import Image

from .atomic import atomic_open
from .dicom import DICOM_SUFFIXES, ImageReadError, read_dicom_header, read_dicom_with_header

META_FILE = 'meta.csv'
FAILURES_FILE = 'failures.csv'
META_COLUMNS = ['image_id', 'width', 'height', 'png_width', 'png_height', 'photometric_interpretation',
                'transfer_syntax', 'rows', 'columns', 'bits_stored']
_SAVE_EVERY = 200  # rows between metadata checkpoints


def target_size(width: int, height: int, size: int, keep_aspect: bool) -> Tuple[int, int]:
    """(width, height) of the PNG: ``size`` x ``size``, or the longer side ``size`` with ``keep_aspect``."""
    if not keep_aspect:
        return size, size
    scale = size / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def write_csv_atomic(df: pd.DataFrame, path: str) -> None:
    with atomic_open(path, 'w') as f:
        df.to_csv(f, index=False)


def convert_one(src: str, out_dir: str, size: int = 1024, keep_aspect: bool = False,
                bit_depth: int = 8) -> Dict[str, object]:
    """Convert one DICOM to ``out_dir/<image_id>.png``; returns its metadata row. Decodes the file once."""
    img, header = read_dicom_with_header(src, bit_depth=bit_depth)
    h, w = img.shape
    tw, th = target_size(w, h, size, keep_aspect)
    # INTER_AREA averages the covered source pixels: the right filter for shrinking, on the 8/16-bit result
    if (tw, th) != (w, h):
        img = cv2.resize(img, (tw, th), interpolation=cv2.INTER_AREA)
    ok, png = cv2.imencode('.png', img, [cv2.IMWRITE_PNG_COMPRESSION, 1])  # fast level; PNG is lossless anyway
    if not ok:
        raise ImageReadError(src, 'PNG encoding failed')
    image_id = osp.splitext(osp.basename(src))[0]
    with atomic_open(osp.join(out_dir, image_id + '.png'), 'wb', fsync=False) as f:  # fsync per PNG: too slow
        f.write(png.tobytes())
    return dict(image_id=image_id, width=w, height=h, png_width=tw, png_height=th,
                photometric_interpretation=header['photometric_interpretation'],
                transfer_syntax=header['transfer_syntax'], rows=header['rows'], columns=header['columns'],
                bits_stored=header['bits_stored'])


def _recover_row(src: str, png: str) -> Dict[str, object]:
    """Metadata of a PNG finished by an earlier, killed run: header read only, no decoding."""
    header = read_dicom_header(src)
    with Image.open(png) as im:
        pw, ph = im.size
    return dict(image_id=osp.splitext(osp.basename(src))[0], width=header['columns'], height=header['rows'],
                png_width=pw, png_height=ph, photometric_interpretation=header['photometric_interpretation'],
                transfer_syntax=header['transfer_syntax'], rows=header['rows'], columns=header['columns'],
                bits_stored=header['bits_stored'])


def _safe_convert(args) -> Tuple[str, Optional[Dict[str, object]], Optional[str]]:
    src = args[0]
    try:
        return src, convert_one(*args), None
    except Exception as exc:  # noqa: BLE001  (a bad file must never stop the run; the reason is recorded)
        return src, None, f'{type(exc).__name__}: {exc}'


def list_dicoms(src_dir: str) -> List[str]:
    if not osp.isdir(src_dir):
        raise FileNotFoundError(f'{src_dir}: no such folder')
    return sorted(osp.join(src_dir, f) for f in os.listdir(src_dir) if f.lower().endswith(DICOM_SUFFIXES))


def convert_folder(src_dir: str, out_dir: str, size: int = 1024, keep_aspect: bool = False, bit_depth: int = 8,
                   workers: Optional[int] = None, progress: bool = True) -> Dict[str, object]:
    """Convert every DICOM of ``src_dir``; see the module docstring. Returns a summary dict."""
    start = time.time()
    os.makedirs(out_dir, exist_ok=True)
    for stale in (f for f in os.listdir(out_dir) if f.startswith('.') and f.endswith('.tmp')):
        os.remove(osp.join(out_dir, stale))  # left by a killed run
    sources = list_dicoms(src_dir)
    meta_path = osp.join(out_dir, META_FILE)
    rows: Dict[str, Dict[str, object]] = {}
    if osp.isfile(meta_path):
        rows = {r['image_id']: r for r in pd.read_csv(meta_path, dtype={'image_id': str}).to_dict('records')}
    todo, recovered = [], 0
    for src in sources:
        image_id = osp.splitext(osp.basename(src))[0]
        png = osp.join(out_dir, image_id + '.png')
        if osp.isfile(png) and image_id not in rows:
            try:
                rows[image_id] = _recover_row(src, png)
                recovered += 1
                continue
            except Exception:  # noqa: BLE001  (unreadable leftover: convert again)
                pass
        if not (osp.isfile(png) and image_id in rows):
            todo.append(src)
    skipped = len(sources) - len(todo)

    def save_meta():
        write_csv_atomic(pd.DataFrame(list(rows.values()), columns=META_COLUMNS).sort_values('image_id'),
                         meta_path)

    failures: List[Dict[str, str]] = []
    workers = workers or os.cpu_count() or 1
    bar = None
    if progress:
        from tqdm import tqdm
        bar = tqdm(total=len(todo), desc='DICOM -> PNG', unit='img')
    with ProcessPoolExecutor(workers) as pool:
        # at most 2 tasks in flight per worker: memory stays bounded by the number of workers
        pending, queue, done = set(), iter(todo), 0
        for src in queue:
            pending.add(pool.submit(_safe_convert, (src, out_dir, size, keep_aspect, bit_depth)))
            if len(pending) < 2 * workers:
                continue
            finished = next(as_completed(pending))
            pending.remove(finished)
            done += _collect(finished.result(), rows, failures, bar)
            if done % _SAVE_EVERY == 0:
                save_meta()
        for finished in as_completed(pending):
            _collect(finished.result(), rows, failures, bar)
    if bar is not None:
        bar.close()
    save_meta()
    failures_path = osp.join(out_dir, FAILURES_FILE)
    if failures:
        write_csv_atomic(pd.DataFrame(failures, columns=['image_id', 'path', 'reason']), failures_path)
    elif osp.isfile(failures_path):
        os.remove(failures_path)  # an earlier run's failures are fixed now
    return dict(total=len(sources), converted=len(todo) - len(failures), skipped=skipped, recovered=recovered,
                failed=len(failures), seconds=time.time() - start, meta=meta_path,
                failures=failures_path if failures else None)


def _collect(result, rows, failures, bar) -> int:
    src, row, reason = result
    if row is not None:
        rows[row['image_id']] = row
    else:
        failures.append(dict(image_id=osp.splitext(osp.basename(src))[0], path=src, reason=reason))
    if bar is not None:
        bar.update(1)
        bar.set_postfix(failed=len(failures))
    return 1
