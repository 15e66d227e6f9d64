"""The one reader of user CSVs: every unreadable file is one message naming it; line numbers are the file's."""
import pytest

from tests.helpers import COLUMNS, write_csv
from vinbig_mmdet.datasets.annotations import read_annotations, read_image_list, read_sizes
from vinbig_mmdet.errors import InputError
from vinbig_mmdet.evaluation.submission import read_abnormal_probabilities, read_submission
from vinbig_mmdet.io.csv_reader import csv_columns, read_csv

HEADER = ','.join(COLUMNS)
ROW = 'img1,Cardiomegaly,3,R8,100,200,400,300'

# every reader of user CSVs, with the header it needs
READERS = [
    (read_annotations, HEADER),
    (read_image_list, 'image_id,PredictionString'),
    (read_sizes, 'image_id,width,height'),
    (read_abnormal_probabilities, 'image_id,prob'),
    (read_submission, 'image_id,PredictionString'),
]


@pytest.mark.parametrize('reader, header', READERS, ids=[r.__name__ for r, _ in READERS])
@pytest.mark.parametrize('kind', ['empty', 'blank', 'header_only', 'latin1', 'utf16', 'missing'])
def test_every_reader_names_the_file(tmp_path, reader, header, kind):
    path = tmp_path / 'input.csv'
    content = {
        'empty': b'',
        'blank': b'\n\n  \n',
        'header_only': (header + '\n').encode(),
        'latin1': (header + '\nR\xe9sum\xe9\n').encode('latin-1'),
        'utf16': (header + '\nabc\n').encode('utf-16'),
    }
    if kind != 'missing':
        path.write_bytes(content[kind])
    expected = {'empty': 'the file is empty', 'blank': 'the file is empty', 'header_only': 'only a header line',
                'latin1': r'line 2 is not UTF-8 .*Latin-1.*save it as UTF-8',
                'utf16': 'the file is UTF-16 .*save it as UTF-8',
                'missing': 'no such file'}[kind]
    error = FileNotFoundError if kind == 'missing' else InputError
    with pytest.raises(error, match=f'{path}: {expected}'):
        reader(str(path))


def test_utf8_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / 'excel.csv'
    path.write_bytes(b'\xef\xbb\xbf' + f'{HEADER}\n{ROW}\n'.encode())  # Excel's "CSV UTF-8"
    assert read_annotations(str(path))['image_id'].tolist() == ['img1']
    assert csv_columns(str(path))[0] == 'image_id'


def test_line_numbers_count_blank_lines(tmp_path):
    path = tmp_path / 'train.csv'
    path.write_text(f'\n{HEADER}\n{ROW}\n\n   \n{ROW.replace("Cardiomegaly,3", "Consolidation,4")}\n\n'
                    f'{ROW.replace("Cardiomegaly,3", "ILD,5").replace(",400,", ",x,")}\n')
    with pytest.raises(InputError, match=r'non-numeric or non-finite x_max.*line 8'):
        read_annotations(str(path))
    assert read_csv(str(path))['line'].tolist() == [3, 6, 8]


def test_quoted_fields_over_several_lines(tmp_path):
    path = tmp_path / 'p.csv'
    path.write_text('image_id,note,prob\na,"two\nlines",0.5\n\nb,plain,1.5\n')
    with pytest.raises(InputError, match=r'outside \[0, 1\], at line\(s\) \[5\]'):
        read_abnormal_probabilities(str(path))


def test_malformed_row_and_missing_column(tmp_path):
    path = write_csv(tmp_path / 'sizes.csv', [('a', 10, 20)], ['image_id', 'width', 'height'])
    with open(path, 'a') as f:
        f.write('b,1,2,3,4\n')
    with pytest.raises(InputError, match=r'sizes\.csv: not a readable CSV \(.*line 3'):
        read_sizes(path)
    path = write_csv(tmp_path / 'sizes2.csv', [('a', 10)], ['image_id', 'width'])
    with pytest.raises(InputError, match=r"sizes2\.csv: missing column\(s\) \['height'\]"):
        read_sizes(path)
