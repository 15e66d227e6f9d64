"""The one reader of user CSVs (annotations, image lists, sizes, folds, probabilities, submissions).

Whatever the file, a problem with it is one :class:`InputError` that names the file and, where there is one, the
line: a missing or empty file, a header without rows, text that is not UTF-8 (Latin-1, UTF-16), a malformed row,
a missing column. Every frame gets a ``line`` column with each row's line number in the file as an editor shows
it: pandas skips blank lines, so ``index + 2`` would point at the wrong line after the first blank one.
"""
import csv
import io
import os
from typing import Dict, List, Optional, Sequence

import numpy as np
import pandas as pd

from ..errors import InputError

LINE = 'line'
_UTF16_BOMS = (b'\xff\xfe', b'\xfe\xff')
_UTF8_BOM = b'\xef\xbb\xbf'


def read_csv_bytes(path: str) -> bytes:
    """The file's bytes, checked to be UTF-8 text (a UTF-8 byte-order mark, as Excel writes, is dropped)."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f'{path}: no such file' if not os.path.isdir(path) else
                                f'{path} is a folder, not a CSV file')
    with open(path, 'rb') as f:
        data = f.read()
    fix = f'save it as UTF-8 (e.g. iconv -f {{enc}} -t UTF-8 {os.path.basename(path)} > fixed.csv)'
    if data.startswith(_UTF16_BOMS) or (len(data) > 1 and data.count(b'\0') > len(data) // 4):
        raise InputError(f'{path}: the file is UTF-16 text, not UTF-8; {fix.format(enc="UTF-16")}')
    if data.startswith(_UTF8_BOM):
        data = data[len(_UTF8_BOM):]
    if b'\r' in data and b'\n' not in data:  # old Mac line endings (Excel for Mac 2011): CR alone ends a line
        data = data.replace(b'\r', b'\n')
        from mmengine.logging import print_log
        print_log(f'{path}: old Mac line endings (CR only) read as line breaks', logger='current')
    try:
        data.decode('utf-8')
    except UnicodeDecodeError as exc:
        line = data.count(b'\n', 0, exc.start) + 1
        raise InputError(f'{path}: line {line} is not UTF-8 text (byte 0x{data[exc.start]:02x}; the file looks '
                         f'Latin-1 / Windows-1252 encoded); {fix.format(enc="LATIN1")}') from None
    return data


def _is_blank(fields: List[str]) -> bool:
    return not fields or (len(fields) == 1 and not fields[0].strip())


def record_lines(data: bytes, n_rows: int) -> np.ndarray:
    """Line number (1-based) of each of the ``n_rows`` data rows pandas read from ``data`` (UTF-8)."""
    if b'"' not in data:  # one record per line: a line is a row unless it is blank
        lines = np.flatnonzero([bool(line.strip()) for line in data.split(b'\n')]) + 1
        if len(lines) == n_rows + 1:
            return lines[1:]
    reader, starts, end = csv.reader(io.StringIO(data.decode('utf-8'))), [], 0  # quoted fields may span lines
    for fields in reader:
        start, end = end + 1, reader.line_num
        if not _is_blank(fields):
            starts.append(start)
    if len(starts) == n_rows + 1:
        return np.asarray(starts[1:])
    return np.arange(n_rows) + 2  # pandas and csv disagree on this file: fall back to the plain count


def csv_columns(path: str) -> List[str]:
    """The column names of a CSV (its first non-blank line), with the same checks as :func:`read_csv`."""
    for fields in csv.reader(io.StringIO(read_csv_bytes(path).decode('utf-8'))):
        if not _is_blank(fields):
            return [f.strip() for f in fields]
    raise InputError(f'{path}: the file is empty (no header line)')


def read_csv(path: str, required: Sequence[str] = (), dtype: Optional[Dict[str, object]] = None,
             allow_empty: bool = False, expected: str = '', **pandas_kwargs) -> pd.DataFrame:
    """Read a user's CSV with pandas; see the module docstring.

    Args:
        required: columns that must be there (the error lists the ones missing and the ones found).
        allow_empty: accept a header without rows (otherwise an error).
        expected: a hint for the messages, e.g. ``"Kaggle's train.csv format: image_id, class_name, ..."``.
    """
    data = read_csv_bytes(path)
    hint = f' Expected {expected}.' if expected else ''
    if not data.strip():
        raise InputError(f'{path}: the file is empty.{hint}')
    try:
        df = pd.read_csv(io.BytesIO(data), dtype=dtype, encoding='utf-8', **pandas_kwargs)
    except pd.errors.EmptyDataError:
        raise InputError(f'{path}: the file is empty.{hint}') from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f'{path}: not a readable CSV ({str(exc).strip()}).{hint}') from None
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise InputError(f'{path}: missing column(s) {missing}; found {list(df.columns)}.{hint}')
    if len(df) == 0 and not allow_empty:
        raise InputError(f'{path}: only a header line, no rows.{hint}')
    df[LINE] = record_lines(data, len(df))
    return df
