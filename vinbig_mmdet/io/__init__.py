from .dicom import (
                    DICOM_SUFFIXES,
                    IMAGE_SUFFIXES,
                    DicomReadError,
                    ImageReadError,
                    is_dicom_path,
                    read_dicom,
                    read_dicom_dataset,
                    read_dicom_header,
                    read_dicom_with_header,
                    read_image,
                    to_uint,
)

__all__ = ['DICOM_SUFFIXES', 'IMAGE_SUFFIXES', 'DicomReadError', 'ImageReadError', 'is_dicom_path', 'read_dicom',
           'read_dicom_dataset', 'read_dicom_header', 'read_dicom_with_header', 'read_image', 'to_uint']
