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

Declared sizes are capped before anything is decoded (:func:`max_pixels`: ``VINBIG_MAX_PIXELS``, default
40,000,000 pixels, about 6,300 x 6,300; VinBigData's radiographs have at most about 11 million): a 1.5 KB JPEG 2000
file declaring 16,000 x 16,000 pixels would otherwise cost 1.5 GB. For JPEG 2000 the codestream's own header (SIZ)
is checked too, against the cap and against Rows/Columns and BitsAllocated.

What cannot be detected: JPEG 2000 carries no checksum, so a codestream damaged inside its coded data decodes into
a wrong image without any error from the decoder. What is detected: a decoder that fails or warns, a codestream
whose size or bit depth disagrees with the DICOM header, and display attributes that cannot work (RescaleSlope 0
or not a number, WindowWidth below 1, a VOI LUT shorter than its descriptor, a display chain that maps every pixel
to one value).
"""
import os
import re
import struct
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
#: Default cap on the pixels a DICOM may declare (rows x columns x frames); ``VINBIG_MAX_PIXELS`` overrides it.
DEFAULT_MAX_PIXELS = 40_000_000
MAX_PIXELS_ENV = 'VINBIG_MAX_PIXELS'
#: Modules whose warnings during decoding mean the decoder met damaged data.
_DECODER_MODULES = ('openjpeg', 'pylibjpeg', 'libjpeg', 'jpeg_ls', 'gdcm', 'PIL')


def max_pixels() -> int:
    """The pixel cap: ``VINBIG_MAX_PIXELS`` (read at each call, so loader workers and tools see it) or the default."""
    value = os.environ.get(MAX_PIXELS_ENV, '')
    if not value:
        return DEFAULT_MAX_PIXELS
    try:
        cap = int(value)
    except ValueError:
        cap = 0
    if cap < 1:
        raise InputError(f'{MAX_PIXELS_ENV}={value!r} is not a positive integer; set it to the most pixels an '
                         f'image may declare (default {DEFAULT_MAX_PIXELS}) or unset it')
    return cap


def check_pixel_count(path: PathLike, width: int, height: int, frames: int = 1, what: str = 'declares') -> None:
    """Refuse an image above :func:`max_pixels` before it is decoded."""
    cap = max_pixels()
    if width * height * frames > cap:
        frames_text = f' x {frames} frames' if frames > 1 else ''
        raise DicomReadError(path, f'{what} {width} x {height} pixels{frames_text}, more than the cap of {cap} '
                             f'pixels (decoding it could exhaust memory); if the image is real, raise the cap with '
                             f'{MAX_PIXELS_ENV}=N, else replace the file')


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
    try:
        frames = max(1, int(ds.get('NumberOfFrames', 1) or 1))
    except (TypeError, ValueError):
        frames = 1
    check_pixel_count(path, int(ds.Columns), int(ds.Rows), frames)
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


_J2K_SIZ = b'\xff\x4f\xff\x51'  # start of codestream, then the image and tile size marker


def j2k_size(frame: bytes) -> Optional[Tuple[int, int, int]]:
    """(width, height, bit depth of the first component) from a JPEG 2000 codestream's SIZ marker, or None."""
    start = frame.find(_J2K_SIZ, 0, 4096)  # at 0 for a bare codestream, after the boxes of a JP2 file
    if start < 0 or len(frame) < start + 43:
        return None
    x, y, x0, y0 = struct.unpack('>IIII', frame[start + 8:start + 24])
    return x - x0, y - y0, (frame[start + 42] & 0x7F) + 1


def check_j2k_header(ds: pydicom.Dataset, path: PathLike) -> None:
    """A JPEG 2000 codestream must declare the image the DICOM header declares (checked before decoding)."""
    syntax = ds.file_meta.TransferSyntaxUID
    if not (syntax.is_compressed and 'JPEG 2000' in str(syntax.name)):
        return
    from pydicom.encaps import generate_frames
    try:
        frame = next(generate_frames(ds.PixelData, number_of_frames=1))
    except Exception:  # noqa: BLE001  (broken encapsulation: the decoder reports it)
        return
    found = j2k_size(frame)
    if found is None:
        return
    width, height, bits = found
    check_pixel_count(path, width, height, what='its JPEG 2000 codestream declares')
    if (width, height) != (int(ds.Columns), int(ds.Rows)):
        raise DicomReadError(path, f'its JPEG 2000 codestream is {width} x {height} pixels but the header says '
                             f'Columns x Rows = {ds.Columns} x {ds.Rows}: the file is damaged; replace it')
    allocated = int(ds.get('BitsAllocated', 16) or 16)
    if bits > allocated:
        raise DicomReadError(path, f'its JPEG 2000 codestream holds {bits}-bit values but BitsAllocated is '
                             f'{allocated}: the file is damaged; replace it')


def _decode(ds: pydicom.Dataset, path: PathLike) -> np.ndarray:
    """``ds.pixel_array``; a warning from a decoder (damaged data it worked around) is an error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        pixels = ds.pixel_array
    for warning in caught:
        module = getattr(warning, 'filename', '') or ''
        if any(f'/{name}' in module or f'{name}/' in module for name in _DECODER_MODULES):
            raise DicomReadError(path, f'the decoder reported a problem ({warning.message}): the pixel data are '
                                 f'damaged; replace the file')
    return pixels


def _stored_pixels(ds: pydicom.Dataset, path: PathLike) -> np.ndarray:
    if 'PixelData' not in ds:
        raise DicomReadError(path, 'has no pixel data (PixelData element missing)')
    check_j2k_header(ds, path)
    try:
        pixels = _decode(ds, path)
    except DicomReadError:
        raise
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


_FIX_ATTRIBUTE = ('correct the attribute in the file (e.g. with pydicom) or leave the image out; training would '
                  'otherwise see a wrong image')


def _number(ds: pydicom.Dataset, key: str, path: PathLike) -> Optional[float]:
    """The numeric value of a single-valued attribute, None if absent; a non-number names the attribute."""
    if key not in ds or ds[key].value in (None, ''):
        return None
    value = ds[key].value
    try:
        number = float(value[0] if isinstance(value, (list, tuple, pydicom.multival.MultiValue)) else value)
    except (TypeError, ValueError):
        number = float('nan')
    if not np.isfinite(number):
        raise DicomReadError(path, f'{key} = {value!r} is not a number; {_FIX_ATTRIBUTE}')
    return number


def check_display_attributes(ds: pydicom.Dataset, path: PathLike, voi_lut: bool = True) -> None:
    """Refuse display attributes that make pydicom fail with a bare error or turn the image blank."""
    slope = _number(ds, 'RescaleSlope', path)
    _number(ds, 'RescaleIntercept', path)
    if slope == 0:
        raise DicomReadError(path, f'RescaleSlope = 0 maps every pixel to the same value (a blank image); '
                             f'{_FIX_ATTRIBUTE} (RescaleSlope is usually 1)')
    if not voi_lut:
        return
    if 'VOILUTSequence' in ds and len(ds.VOILUTSequence):
        item = ds.VOILUTSequence[0]
        try:
            entries = int(item.LUTDescriptor[0]) or 65536  # 0 means 2**16
            data = item.LUTData
            length = len(data) if isinstance(data, (list, tuple, pydicom.multival.MultiValue, bytes)) else 1
            if isinstance(data, bytes) and int(item.LUTDescriptor[2]) > 8:
                length //= 2  # 16-bit entries in OW data; 8-bit entries are packed two per word
        except (AttributeError, TypeError, ValueError, IndexError, KeyError) as exc:
            raise DicomReadError(path, f'VOI LUT Sequence unreadable ({type(exc).__name__}: {exc}); '
                                 f'{_FIX_ATTRIBUTE}') from None
        if length < entries:
            raise DicomReadError(path, f'VOI LUT has {length} entries but its LUTDescriptor declares {entries}; '
                                 f'{_FIX_ATTRIBUTE}')
        return
    width = _number(ds, 'WindowWidth', path)
    _number(ds, 'WindowCenter', path)
    if width is not None and width < 1:
        raise DicomReadError(path, f'WindowWidth = {ds.WindowWidth} (it must be at least 1); {_FIX_ATTRIBUTE}')


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
    check_display_attributes(ds, path, voi_lut)
    try:
        mapped = display_values(ds, values, voi_lut)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001  (pydicom on attributes the checks above do not know)
        raise DicomReadError(path, f'display attributes (rescale, window, VOI LUT) unusable ({type(exc).__name__}: '
                             f'{exc}); {_FIX_ATTRIBUTE}') from None
    if inverse is not None or np.all(np.diff(mapped) >= 0) or np.all(np.diff(mapped) <= 0):
        present = mapped[[0, -1]] if inverse is None else mapped  # monotonic: extremes at the stored min and max
    else:
        present = mapped[np.bincount((pixels.ravel().astype(np.int64) - lo), minlength=hi - lo + 1) > 0]
    vmin, vmax = float(present.min()), float(present.max())
    if vmax <= vmin < float('inf') and hi > lo:
        raise DicomReadError(path, f'the display chain (rescale, window, VOI LUT) maps stored values {lo}..{hi} '
                             f'to the single value {vmin:g}: the image would be blank; {_FIX_ATTRIBUTE}')
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
            pixels = _stored_pixels(ds, path)  # decoders' own warnings are recorded inside
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
