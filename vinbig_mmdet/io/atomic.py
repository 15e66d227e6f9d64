"""Writing files so that a killed process never leaves a broken file under the final name (one implementation
for checkpoints, submissions, PNGs and CSVs)."""
import csv
import os
import os.path as osp
import tempfile
from contextlib import contextmanager
from typing import IO, Iterable, Iterator, Sequence


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # some file systems do not allow fsync on folders
        pass


def current_umask() -> int:
    """The process's umask, read without changing it where Linux allows (os.umask can only set it, and setting
    it back and forth races with other threads creating files)."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('Umask:'):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def durable_replace(tmp: str, final: str, fsync: bool = True) -> None:
    """Rename a finished ``tmp`` to ``final`` (atomic on POSIX), flushing file and folder entry to disk first."""
    if fsync:
        with open(tmp, 'rb') as f:
            os.fsync(f.fileno())
    os.replace(tmp, final)
    if fsync:
        _fsync_folder(osp.dirname(osp.abspath(final)))


@contextmanager
def atomic_open(path: str, mode: str = 'wb', fsync: bool = True) -> Iterator[IO]:
    """Open a hidden ``.<name>.*.tmp`` beside ``path``; on success rename it to ``path``, on any error remove it.

    ``fsync=False`` skips the flush to disk (a crash of the machine may then lose the file, never corrupt it);
    the converter uses that for its thousands of PNGs.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix='.' + osp.basename(path) + '.', suffix='.tmp', dir=folder)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600; the final file gets open()'s usual mode
        with os.fdopen(fd, mode, **({} if 'b' in mode else dict(newline=''))) as f:
            yield f
        durable_replace(tmp, path, fsync)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def write_csv_atomic(path: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a CSV (``header`` then ``rows``) under ``path`` atomically. Returns the row count."""
    n = 0
    with atomic_open(path, 'w') as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            n += 1
    return n
