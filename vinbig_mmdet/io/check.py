"""Decoding every image of a data set once, before a run, to list the unreadable ones (tools/check_data.py)."""
import os
from contextlib import closing
from typing import List, Optional, Sequence, Tuple

from .dicom import ImageReadError, read_image
from .parallel import map_files


def decode_problem(path: str) -> Optional[str]:
    """Why ``path`` cannot be decoded the way training reads it, or None if it can."""
    try:
        read_image(path)
    except ImageReadError as exc:
        return exc.reason
    except FileNotFoundError:
        return 'no such file'
    return None


def check_images(paths: Sequence[str], workers: Optional[int] = None,
                 progress: bool = True) -> List[Tuple[str, str]]:
    """Decode every image once, in parallel; returns ``(path, reason)`` of each that failed, sorted by path."""
    failures = []
    bar = None
    if progress:
        from ..progress import progress_bar
        bar = progress_bar(total=len(paths), desc='decode', unit='img')
    with closing(map_files(decode_problem, paths, workers or os.cpu_count() or 1)) as outcomes:
        for path, problem, error in outcomes:
            if problem or error:
                failures.append((path, problem or error))
            if bar is not None:
                bar.update(1)
                bar.set_postfix(failed=len(failures))
    if bar is not None:
        bar.close()
    return sorted(failures)
