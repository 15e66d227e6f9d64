"""Write radiograph DICOMs the way VinBigData's files are laid out (used by the demo generator and the tests)."""
import os
from typing import Optional, Tuple, Union

import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless, generate_uid

#: Short names for the transfer syntaxes the writer can produce.
TRANSFER_SYNTAXES = {
    'explicit': ExplicitVRLittleEndian,
    'jpeg2000': JPEG2000Lossless,
    'jpegls': JPEGLSLossless,
    'rle': RLELossless,
}
# pydicom's encoder plugin for each compressed syntax (pylibjpeg-openjpeg, pyjpegls, pydicom's own RLE).
_ENCODER_PLUGIN = {'jpeg2000': 'pylibjpeg', 'jpegls': 'pyjpegls', 'rle': 'pydicom'}
_CR_IMAGE_STORAGE = UID('1.2.840.10008.5.1.4.1.1.1.1')  # Digital X-Ray Image Storage - For Presentation


def write_dicom(path: Union[str, os.PathLike],
                stored: np.ndarray,
                photometric: str = 'MONOCHROME2',
                bits_stored: int = 12,
                window: Optional[Tuple[float, float]] = None,
                rescale: Optional[Tuple[float, float]] = None,
                voi_lut_table: Optional[np.ndarray] = None,
                transfer_syntax: str = 'explicit',
                image_id: Optional[str] = None) -> None:
    """Write ``stored`` (uint16 stored values, H x W) as a single-frame grayscale DICOM.

    Args:
        photometric: 'MONOCHROME1' (low values white) or 'MONOCHROME2'.
        window: (centre, width) written as WindowCenter/WindowWidth.
        rescale: (slope, intercept) written as RescaleSlope/RescaleIntercept (the modality LUT).
        voi_lut_table: a VOI LUT Sequence table (first mapped value 0, 16-bit entries).
        transfer_syntax: one of ``TRANSFER_SYNTAXES``.
    """
    if stored.ndim != 2 or stored.dtype != np.uint16:
        raise ValueError(f'stored must be a 2-D uint16 array, got {stored.dtype} {stored.shape}')
    if int(stored.max(initial=0)) >= 2**bits_stored:
        raise ValueError(f'stored values exceed {bits_stored} bits')
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = _CR_IMAGE_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b'\0' * 128)
    ds.SOPClassUID = _CR_IMAGE_STORAGE
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'DX'
    ds.PatientID = image_id or os.path.splitext(os.path.basename(str(path)))[0]
    ds.BodyPartExamined = 'CHEST'
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = 16
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = float(window[0]), float(window[1])
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = float(rescale[0]), float(rescale[1])
    if voi_lut_table is not None:
        from pydicom.dataset import Dataset
        item = Dataset()
        item.LUTDescriptor = [len(voi_lut_table), 0, 16]
        item.LUTData = [int(v) for v in voi_lut_table]
        item['LUTData'].VR = 'US'
        ds.VOILUTSequence = [item]
    ds.PixelData = np.ascontiguousarray(stored).tobytes()
    if transfer_syntax != 'explicit':
        if transfer_syntax not in TRANSFER_SYNTAXES:
            raise ValueError(f'unknown transfer syntax {transfer_syntax!r}; use one of {list(TRANSFER_SYNTAXES)}')
        ds.compress(TRANSFER_SYNTAXES[transfer_syntax], encoding_plugin=_ENCODER_PLUGIN[transfer_syntax])
    ds.save_as(str(path), enforce_file_format=True)
