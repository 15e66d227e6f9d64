"""The project's one base class for bad input: a message that names the file, line or key and the fix."""
import os.path as osp


class InputError(ValueError):
    """Input a user can fix (a file, a CSV row, a config key, a checkpoint). Tools print the message alone, without
    a traceback, and exit non-zero (:func:`vinbig_mmdet.cli.run_tool`)."""


def require_path(path: str, fix: str, folder: bool = False) -> None:
    """Raise :class:`InputError` naming ``path`` and ``fix`` (the step or command that creates it) if it is missing."""
    if not (osp.isdir(path) if folder else osp.isfile(path)):
        raise InputError(f'{"folder" if folder else "file"} {path} does not exist: {fix}')
