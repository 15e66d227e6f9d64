"""The project's one base class for bad input: a message that names the file, line or key and the fix."""


class InputError(ValueError):
    """Input a user can fix (a file, a CSV row, a config key, a checkpoint). Tools print the message alone, without
    a traceback, and exit non-zero (:func:`vinbig_mmdet.cli.run_tool`)."""
