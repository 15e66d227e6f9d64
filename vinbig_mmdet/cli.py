"""What every command-line tool shares: bad input ends in one message and a non-zero exit, not a traceback."""
import re
import sys
from typing import Callable, Optional

from .errors import InputError

# MMEngine's registry re-raises errors from a constructor as ``class `X` in path.py: <message>``.
_REGISTRY_PREFIX = re.compile(r'^(class `\w+` in [\w./-]+\.py: )+')


def error_message(exc: BaseException) -> str:
    """The user-facing text of ``exc``, without the registry's 'class `X` in ...' prefix."""
    return _REGISTRY_PREFIX.sub('', str(exc))


def run_tool(main: Callable[[], Optional[int]]) -> None:
    """Call a tool's ``main``; an :class:`InputError` or a missing file becomes ``error: <message>`` on stderr and
    exit status 1. Anything else is a bug and keeps its traceback."""
    try:
        code = main()
    except (InputError, FileNotFoundError) as exc:
        sys.exit(f'error: {error_message(exc)}')
    sys.exit(code or 0)
