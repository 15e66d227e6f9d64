"""The one progress bar of the tools. On a terminal it is tqdm's bar, redrawn in place; written to a log file or a
pipe (a batch job, a notebook's captured output, ``tool > log 2>&1``) the same redraws would pile up as hundreds of
carriage-return updates on one line, so there it writes a whole line now and then instead (and the last one)."""
import sys
from typing import IO, Iterable, Optional

from tqdm import tqdm

LOG_INTERVAL_S = 30.0  # seconds between two lines of progress in a log


class _Lines:
    """A stream for tqdm that turns each in-place redraw (``\\r`` + status) into one line of its own."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace('\r', '').rstrip('\n')
        if text.strip():
            self.stream.write(text + '\n')

    def flush(self) -> None:
        self.stream.flush()


def interactive(stream: IO[str]) -> bool:
    isatty = getattr(stream, 'isatty', None)
    return bool(isatty and isatty())


def progress_bar(iterable: Optional[Iterable] = None, total: Optional[int] = None, desc: str = '',
                 unit: str = 'it', disable: bool = False, stream: Optional[IO[str]] = None) -> tqdm:
    """tqdm on ``stream`` (default: stderr as it is now, so a redirected stderr counts): a live bar on a terminal,
    otherwise one line at most every LOG_INTERVAL_S seconds plus the final count."""
    stream = stream if stream is not None else sys.stderr
    if interactive(stream):
        return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, file=stream)
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=disable, file=_Lines(stream),
                mininterval=LOG_INTERVAL_S, maxinterval=LOG_INTERVAL_S, ascii=True, dynamic_ncols=False, ncols=100)
