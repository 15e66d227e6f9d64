"""The one DICOM reader of the project (used by the training transform, the converter and the tools).

Stored pixel values go through the DICOM display chain (modality LUT or rescale, then VOI LUT or window
centre/width, MONOCHROME1 inverted) and are stretched to the full output range, as the popular Kaggle
notebooks do. The chain is a pointwise function of the stored value, so it is evaluated once per distinct
stored value (at most 65,536 of them) with pydicom's own functions, and the full-size image goes through one
table lookup. That is exact (same semantics as applying pydicom to the whole array) and far cheaper than the
usual float64 passes over a 3000 x 2500 image.

The work is bounded by the number of pixels, whatever the file declares: a table indexed by value is built only
when the value range is no larger than the image (or 65,536); wider ranges (32-bit data) map the distinct values
present instead. Running out of memory is a :class:`DicomReadError` naming the file, like any other read failure.
"""
import os
import re
import warnings
from pathlib import Path
from typing import Dict, Optional, Tuple, Union

import cv2
import numpy as np
import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_modality_lut, apply_voi_lut
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from ..errors import InputError

PathLike = Union[str, os.PathLike]

#: File suffixes treated as DICOM (Kaggle's files end in ``.dicom``).
DICOM_SUFFIXES = ('.dicom', '.dcm', '.dic')
#: Every radiograph file the project indexes and reads (lower case; matched case-insensitively): the one list.
IMAGE_SUFFIXES = DICOM_SUFFIXES + ('.png', '.jpg', '.jpeg')


#: A value table larger than this is only built for images with at least as many pixels.
_MAX_SMALL_TABLE = 1 << 16


class ImageReadError(InputError):
    """A file that cannot be turned into an image; the message starts with the file's path.

    Re-raisable with one argument: torch's DataLoader re-raises a worker's exception as
    ``type(exc)(text with the worker's traceback)``; that text is reduced to the original message again.
    """

    def __init__(self, path: PathLike, reason: Optional[str] = None):
        if reason is None:
            text = str(path)
            # the worker's traceback ends with "<module>.<ClassName>: <original message>"
            message = re.split(rf'\n(?:[\w.]+\.)?{type(self).__name__}: ', text)[-1].strip()
            path, _, reason = message.partition(': ')
        self.path = str(path)
        self.reason = reason
        super().__init__(f'{path}: {reason}')


class DicomReadError(ImageReadError):
    """A DICOM file that cannot be turned into an image (not DICOM, no pixel data, truncated, ...)."""


def is_dicom_path(path: PathLike) -> bool:
    return Path(path).suffix.lower() in DICOM_SUFFIXES


def read_dicom_dataset(path: PathLike, stop_before_pixels: bool = False) -> pydicom.Dataset:
    """Parse a DICOM file, accepting files without the 128-byte preamble or a Transfer Syntax UID."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=stop_before_pixels)
    except InvalidDicomError:
        # No preamble/'DICM' marker: some exporters write a bare data set. Parse it raw, and accept it only
        # if it really is an image.
        try:
            ds = pydicom.dcmread(path, force=True, stop_before_pixels=stop_before_pixels)
        except Exception as exc:  # noqa: BLE001  (anything the parser raises means: not DICOM)
            raise DicomReadError(path, f'not a DICOM file ({exc})') from exc
        if 'Rows' not in ds or 'Columns' not in ds:
            raise DicomReadError(path, 'not a DICOM file (no DICM marker and no image attributes)')
    except FileNotFoundError:
        raise
    except Exception as exc:  # noqa: BLE001  (truncated header, bad tags, ...)
        raise DicomReadError(path, f'unreadable DICOM header ({type(exc).__name__}: {exc})') from exc
    if 'TransferSyntaxUID' not in ds.file_meta:
        # Seen in the wild. The encoding the parser detected tells implicit from explicit VR; compressed pixel
        # data would be encapsulated and is reported by the decoder if this guess is wrong.
        implicit = ds.original_encoding[0]
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    return ds


def read_dicom_header(path: PathLike) -> Dict[str, object]:
    """Image attributes without decoding pixels (fast: stops before the pixel data)."""
    return header_of(read_dicom_dataset(path, stop_before_pixels=True), path)


def header_of(ds: pydicom.Dataset, path: PathLike = '<dataset>') -> Dict[str, object]:
    """rows, columns, photometric_interpretation, transfer_syntax, bits_stored of a parsed data set."""
    if 'Rows' not in ds or 'Columns' not in ds:
        raise DicomReadError(path, 'no Rows/Columns: not an image')
    return dict(
        rows=int(ds.Rows),
        columns=int(ds.Columns),
        photometric_interpretation=str(ds.get('PhotometricInterpretation', '')),
        transfer_syntax=str(ds.file_meta.TransferSyntaxUID),
        bits_stored=int(ds.get('BitsStored', 0) or 0))


# Optional decoders (not installed by default): which pip package decodes which compressed syntax. JPEG 2000 (the
# VinBigData DICOMs) and RLE need nothing extra; pylibjpeg-libjpeg is GPL-3, so it is an extra, not a dependency.
OPTIONAL_DECODERS = {
    'JPEG-LS': "pip install pyjpegls (MIT), or pip install 'vinbig-mmdet[jpeg]' (pylibjpeg-libjpeg, GPL-3)",
    'JPEG': "pip install 'vinbig-mmdet[jpeg]' (pylibjpeg-libjpeg, GPL-3; Pillow reads 8-bit baseline only), "
            'or python-gdcm',
}


def missing_decoder_hint(syntax) -> str:
    """'; fix: install X' when no installed pydicom plugin can decode ``syntax``, else ''."""
    try:
        from pydicom.pixels.decoders.base import get_decoder
        if not syntax.is_compressed or get_decoder(syntax).is_available:
            return ''
    except Exception:  # noqa: BLE001  (a syntax pydicom has no decoder for at all)
        return ''
    name = str(syntax.name)
    fix = next((f for key, f in OPTIONAL_DECODERS.items() if name.startswith(key)), None)
    return f'; no installed decoder reads {name}: {fix}' if fix else ''


def _stored_pixels(ds: pydicom.Dataset, path: PathLike) -> np.ndarray:
    if 'PixelData' not in ds:
        raise DicomReadError(path, 'has no pixel data (PixelData element missing)')
    try:
        pixels = ds.pixel_array
    except Exception as exc:  # noqa: BLE001  (truncated data, missing decoder, corrupt stream)
        syntax = ds.file_meta.TransferSyntaxUID
        raise DicomReadError(path, f'cannot decode pixel data with transfer syntax {syntax.name} '
                             f'({type(exc).__name__}: {exc}){missing_decoder_hint(syntax)}') from exc
    if pixels.ndim == 3 and int(ds.get('SamplesPerPixel', 1)) == 1:
        pixels = pixels[0]  # multi-frame: a radiograph has one meaningful frame
    if pixels.ndim != 2:
        raise DicomReadError(path, f'expected a single grayscale frame, got pixel array of shape {pixels.shape}')
    return pixels


def _stored_dtype(ds: pydicom.Dataset) -> np.dtype:
    """The dtype pydicom gives the stored values (it chooses LUT handling from it)."""
    size = {8: 1, 16: 2, 32: 4}.get(int(ds.get('BitsAllocated', 16)), 8)
    return np.dtype(f'{"i" if int(ds.get("PixelRepresentation", 0)) else "u"}{size}')


def display_values(ds: pydicom.Dataset, values: np.ndarray, voi_lut: bool = True) -> np.ndarray:
    """Display value (float64, before stretching) of each stored value in ``values``, by pydicom's own rules."""
    mapped = apply_modality_lut(np.asarray(values).astype(_stored_dtype(ds)), ds)
    if voi_lut:
        mapped = apply_voi_lut(mapped, ds)
    return np.asarray(mapped, dtype=np.float64)


def to_uint(ds: pydicom.Dataset, pixels: np.ndarray, bit_depth: int = 8, voi_lut: bool = True,
            path: PathLike = '<dataset>') -> np.ndarray:
    """Stored pixels -> display image stretched to ``[0, 2**bit_depth - 1]`` (uint8 or uint16)."""
    if bit_depth not in (8, 16):
        raise ValueError(f'bit_depth must be 8 or 16, got {bit_depth}')
    if pixels.dtype in (np.uint8, np.uint16, np.int16):
        lo, hi = (int(v) for v in cv2.minMaxLoc(pixels)[:2])  # one pass, vs two for numpy min + max
    else:
        lo, hi = int(pixels.min()), int(pixels.max())
    by_value = hi - lo < max(pixels.size, _MAX_SMALL_TABLE)
    if by_value:  # a table over the value range, no larger than the image
        values, inverse = np.arange(lo, hi + 1, dtype=np.int64), None
    else:  # a wide range (32-bit data): the distinct values present, at most one per pixel
        values, inverse = np.unique(pixels, return_inverse=True)
    mapped = display_values(ds, values, voi_lut)
    if inverse is not None or np.all(np.diff(mapped) >= 0) or np.all(np.diff(mapped) <= 0):
        present = mapped[[0, -1]] if inverse is None else mapped  # monotonic: extremes at the stored min and max
    else:
        present = mapped[np.bincount((pixels.ravel().astype(np.int64) - lo), minlength=hi - lo + 1) > 0]
    vmin, vmax = float(present.min()), float(present.max())
    scaled = (mapped - vmin) / (vmax - vmin) if vmax > vmin else np.zeros_like(mapped)
    if str(ds.get('PhotometricInterpretation', '')).upper() == 'MONOCHROME1':
        scaled = 1.0 - scaled  # MONOCHROME1: low values are white
    out_max = 255 if bit_depth == 8 else 65535
    table = np.rint(scaled * out_max).astype(np.uint8 if bit_depth == 8 else np.uint16)
    if inverse is not None:
        return table[inverse].reshape(pixels.shape)
    if pixels.dtype in (np.uint8, np.uint16) and lo >= 0:
        if lo > 0:  # index by the stored value itself: one gather pass, no offset pass
            table = np.concatenate([np.zeros(lo, table.dtype), table])
        return table[pixels]
    return table[pixels.astype(np.int32 if pixels.dtype.itemsize <= 2 else np.int64) - lo]


def read_dicom(path: PathLike, bit_depth: int = 8, voi_lut: bool = True) -> np.ndarray:
    """Read a DICOM radiograph as an ``H x W`` uint8 (or uint16) image ready for display or a model.

    Raises:
        FileNotFoundError: the file does not exist.
        DicomReadError: anything else (not DICOM, no pixel data, truncated, undecodable); names the file.
    """
    return read_dicom_with_header(path, bit_depth, voi_lut)[0]


def read_dicom_with_header(path: PathLike, bit_depth: int = 8,
                           voi_lut: bool = True) -> Tuple[np.ndarray, Dict[str, object]]:
    """:func:`read_dicom` and :func:`read_dicom_header` from one parse of the file."""
    ds = read_dicom_dataset(path)
    header = header_of(ds, path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', UserWarning)  # pydicom's chatter about VR/length fixes
            pixels = _stored_pixels(ds, path)
        return to_uint(ds, pixels, bit_depth, voi_lut, path), header
    except MemoryError:
        raise DicomReadError(path, f'out of memory decoding {header["columns"]} x {header["rows"]} pixels of '
                             f'{header["bits_stored"]} bits; free memory or use fewer workers') from None


def read_image(path: PathLike, bit_depth: int = 8) -> np.ndarray:
    """Read any radiograph the project handles (DICOM, PNG, JPEG) as an ``H x W`` grayscale array."""
    if is_dicom_path(path):
        return read_dicom(path, bit_depth=bit_depth)
    flag = cv2.IMREAD_UNCHANGED if bit_depth == 16 else cv2.IMREAD_GRAYSCALE
    img = cv2.imread(str(path), flag)
    if img is None:
        if not os.path.exists(path):
            raise FileNotFoundError(f'{path}: no such image file')
        raise ImageReadError(path, 'not a readable image (cv2.imread failed)')
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img
