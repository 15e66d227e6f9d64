"""DICOM folder -> PNG folder + metadata CSV, in parallel, resumable, never stopped by a bad file.

Output in ``out``: ``<image_id>.png`` (image_id = the DICOM file's stem), ``meta.csv`` (image_id, width, height in
original pixels, png_width, png_height, photometric_interpretation, transfer_syntax, rows, columns, bits_stored),
``failures.csv`` (image_id, path, reason) when something failed, and ``conversion.json`` (size, keep_aspect,
bit_depth: what the PNGs were made with). Every file is written under a temporary name and renamed, so a killed
run leaves no broken PNG or CSV under a final name; a rerun skips finished images. A rerun with other parameters
is refused (or, with ``overwrite``, converts everything again): the folder never mixes two kinds of PNG. A worker
that dies records its file as failed and the run goes on (:mod:`vinbig_mmdet.io.parallel`).
"""
import json
import os
import os.path as osp
import struct
import time
from contextlib import closing
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
import pandas as pd
from PIL import Image

from ..errors import InputError
from .atomic import atomic_open
from .csv_reader import read_csv
from .dicom import ImageReadError, is_dicom_path, read_dicom_header, read_dicom_with_header
from .parallel import map_files

META_FILE = 'meta.csv'
FAILURES_FILE = 'failures.csv'
PARAMS_FILE = 'conversion.json'
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


def _png_params(png: str) -> Tuple[Tuple[int, int], int]:
    """(width, height) and bit depth of a PNG, from its header."""
    with Image.open(png) as im:
        return im.size, 16 if im.mode in ('I', 'I;16', 'I;16B') else 8


def _recover_row(src: str, png: str, params: Dict[str, object]) -> Optional[Dict[str, object]]:
    """Metadata of a PNG finished by an earlier, killed run (header read only, no decoding); None if the PNG
    was not made with ``params``."""
    header = read_dicom_header(src)
    (pw, ph), bits = _png_params(png)
    if (pw, ph) != target_size(header['columns'], header['rows'], params['size'], params['keep_aspect']) or \
            bits != params['bit_depth'] or not png_complete(png, pw, ph):
        return None
    return dict(image_id=osp.splitext(osp.basename(src))[0], width=header['columns'], height=header['rows'],
                png_width=pw, png_height=ph, photometric_interpretation=header['photometric_interpretation'],
                transfer_syntax=header['transfer_syntax'], rows=header['rows'], columns=header['columns'],
                bits_stored=header['bits_stored'])


_PNG_SIGNATURE = b'\x89PNG\r\n\x1a\n'
_PNG_END = b'\x00\x00\x00\x00IEND\xaeB`\x82'  # the IEND chunk every complete PNG ends with


def png_complete(png: str, width: int, height: int) -> bool:
    """True if ``png`` starts as a PNG of ``width`` x ``height`` and ends with its IEND chunk (36 bytes read): a
    file truncated by a copy or a full disk is not taken as done."""
    try:
        with open(png, 'rb') as f:
            head = f.read(24)
            f.seek(-len(_PNG_END), os.SEEK_END)
            tail = f.read()
    except OSError:
        return False
    return (head[:8] == _PNG_SIGNATURE and head[12:16] == b'IHDR' and tail == _PNG_END
            and struct.unpack('>II', head[16:24]) == (int(width), int(height)))


def _convert_task(args) -> Dict[str, object]:
    return convert_one(*args)


def list_dicoms(src_dir: str) -> List[str]:
    if not osp.isdir(src_dir):
        raise FileNotFoundError(f'{src_dir}: no such folder')
    return sorted(osp.join(src_dir, f) for f in os.listdir(src_dir) if is_dicom_path(f))


def describe_params(params: Dict[str, object]) -> str:
    """The prepare_data.py flags that ``params`` stand for."""
    layout = {True: ' --keep-aspect', False: ' (square)'}.get(params['keep_aspect'],
                                                               ' (PNG sizes of no single --size/--keep-aspect)')
    return f'--size {params["size"]} --bit-depth {params["bit_depth"]}{layout}'


def _params_of_folder(out_dir: str, meta_path: str) -> Optional[Dict[str, object]]:
    """What an earlier run made the folder with: its record, or for a folder without one (written before the
    record existed) what meta.csv and a PNG show. None for a folder without output."""
    record = osp.join(out_dir, PARAMS_FILE)
    if osp.isfile(record):
        try:
            with open(record) as f:
                made = json.load(f)
            return {k: made[k] for k in ('size', 'keep_aspect', 'bit_depth')}
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f'{record}: unreadable record of the conversion parameters ({exc}); rerun with '
                             f'--overwrite to convert every image again') from None
    if not osp.isfile(meta_path):
        return None
    meta = read_csv(meta_path, META_COLUMNS, dtype={'image_id': str}, allow_empty=True)
    if not len(meta):
        return None
    first = meta.iloc[0]
    png = osp.join(out_dir, f'{first["image_id"]}.png')
    bits = _png_params(png)[1] if osp.isfile(png) else 8
    longest = int(max(first['png_width'], first['png_height']))
    for keep_aspect in (False, True):
        sizes = np.array([target_size(int(w), int(h), longest, keep_aspect)
                          for w, h in zip(meta['width'], meta['height'])]).reshape(-1, 2)
        if (sizes == meta[['png_width', 'png_height']].to_numpy()).all():
            return dict(size=longest, keep_aspect=keep_aspect, bit_depth=bits)
    return dict(size=longest, keep_aspect=None, bit_depth=bits)


def _prepare_folder(out_dir: str, sources: List[str], params: Dict[str, object], overwrite: bool) -> None:
    """Refuse a folder made with other parameters (or, with ``overwrite``, empty it of earlier output), then
    record ``params``."""
    os.makedirs(out_dir, exist_ok=True)
    for stale in (f for f in os.listdir(out_dir) if f.startswith('.') and f.endswith('.tmp')):
        os.remove(osp.join(out_dir, stale))  # left by a killed run
    made = _params_of_folder(out_dir, osp.join(out_dir, META_FILE))
    if made is not None and made != params:
        if not overwrite:
            raise InputError(f'{out_dir} holds PNGs made with {describe_params(made)}, but this run asks for '
                             f'{describe_params(params)}. Use another --out folder, or add --overwrite to convert '
                             f'every image again with the new settings')
        stems = {osp.splitext(osp.basename(src))[0] for src in sources}
        for name in os.listdir(out_dir):
            if name in (META_FILE, FAILURES_FILE, PARAMS_FILE) or (name.endswith('.png') and name[:-4] in stems):
                os.remove(osp.join(out_dir, name))
    if made != params or not osp.isfile(osp.join(out_dir, PARAMS_FILE)):
        with atomic_open(osp.join(out_dir, PARAMS_FILE), 'w') as f:
            json.dump(params, f)


def convert_folder(src_dir: str, out_dir: str, size: int = 1024, keep_aspect: bool = False, bit_depth: int = 8,
                   workers: Optional[int] = None, progress: bool = True,
                   overwrite: bool = False) -> Dict[str, object]:
    """Convert every DICOM of ``src_dir``; see the module docstring. Returns a summary dict."""
    start = time.time()
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InputError(f'--size {size}: the PNG side in pixels must be a whole number of at least 1 (the '
                         f'popular version uses 1024)')
    sources = list_dicoms(src_dir)
    params = dict(size=size, keep_aspect=keep_aspect, bit_depth=bit_depth)
    _prepare_folder(out_dir, sources, params, overwrite)
    meta_path = osp.join(out_dir, META_FILE)
    rows: Dict[str, Dict[str, object]] = {}
    if osp.isfile(meta_path):
        meta = read_csv(meta_path, META_COLUMNS, dtype={'image_id': str}, allow_empty=True)
        rows = {r['image_id']: r for r in meta[META_COLUMNS].to_dict('records')}
    todo, recovered, damaged = [], 0, []
    for src in sources:
        image_id = osp.splitext(osp.basename(src))[0]
        png = osp.join(out_dir, image_id + '.png')
        if osp.isfile(png) and image_id not in rows:
            try:
                row = _recover_row(src, png, params)
            except Exception:  # noqa: BLE001  (unreadable leftover: convert again)
                row = None
            if row is not None:
                rows[image_id] = row
                recovered += 1
                continue
        if osp.isfile(png) and image_id in rows and not png_complete(png, rows[image_id]['png_width'],
                                                                     rows[image_id]['png_height']):
            damaged.append(image_id)  # listed as done, but truncated or of another size: convert it again
            del rows[image_id]
        if not (osp.isfile(png) and image_id in rows):
            todo.append(src)
    skipped = len(sources) - len(todo)

    def save_meta():
        write_csv_atomic(pd.DataFrame(list(rows.values()), columns=META_COLUMNS).sort_values('image_id'),
                         meta_path)

    failures: List[Dict[str, str]] = []
    bar = None
    if progress:
        from ..progress import progress_bar
        bar = progress_bar(total=len(todo), desc='DICOM -> PNG', unit='img')
    tasks = [(src, out_dir, size, keep_aspect, bit_depth) for src in todo]
    with closing(map_files(_convert_task, tasks, workers or os.cpu_count() or 1)) as outcomes:
        for done, (task, row, reason) in enumerate(outcomes, 1):
            if row is not None:
                rows[row['image_id']] = row
            else:
                failures.append(dict(image_id=osp.splitext(osp.basename(task[0]))[0], path=task[0], reason=reason))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=len(failures))
            if done % _SAVE_EVERY == 0:
                save_meta()
    if bar is not None:
        bar.close()
    save_meta()
    failures_path = osp.join(out_dir, FAILURES_FILE)
    if failures:
        write_csv_atomic(pd.DataFrame(failures, columns=['image_id', 'path', 'reason']), failures_path)
    elif osp.isfile(failures_path):
        os.remove(failures_path)  # an earlier run's failures are fixed now
    return dict(total=len(sources), converted=len(todo) - len(failures), skipped=skipped, recovered=recovered,
                damaged=len(damaged), damaged_examples=damaged[:5],
                failed=len(failures), seconds=time.time() - start, meta=meta_path,
                failures=failures_path if failures else None)
