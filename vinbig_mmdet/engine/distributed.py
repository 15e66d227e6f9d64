"""A distributed run ends cleanly: its process group is destroyed before the interpreter exits."""
import threading
from contextlib import contextmanager
from typing import Iterator

# After an error, other ranks may still wait in a collective with this one, and destroying its process group can
# block (NCCL's abort, gloo's worker threads): give it this long, then exit anyway with the error's status.
ERROR_TEARDOWN_SECONDS = 30.0


@contextmanager
def process_group_teardown() -> Iterator[None]:
    """Destroy torch.distributed's default process group when the block ends, on success and on error, keeping
    the block's own outcome (its exception, or SystemExit with its status: 0 exactly when the work succeeded).

    A process group left to the interpreter's exit can let a gloo worker thread release the last reference to a
    tensor while Python finalizes, which aborts that rank after a finished run ("terminate called without an active
    exception", SIGABRT; reported with torch 2.11 + Python 3.12), and torchrun then reports the run as failed;
    PyTorch asks for destroy_process_group() before exit. Around a tool's whole main, so that a process group made
    anywhere in it is covered::

        with process_group_teardown():
            run_tool(main)
    """
    try:
        yield
    except SystemExit as exc:
        _destroy(succeeded=exc.code in (0, None))
        raise
    except BaseException:
        _destroy(succeeded=False)
        raise
    else:
        _destroy(succeeded=True)


def _destroy(succeeded: bool) -> None:
    import torch.distributed as dist
    if not (dist.is_available() and dist.is_initialized()):
        return
    if succeeded:  # every rank is past its last collective: nothing to wait for
        dist.destroy_process_group()
        return

    def destroy_quietly():  # the run's own error is what the user must see, not this one's
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001
            pass

    worker = threading.Thread(target=destroy_quietly, name='process-group-teardown', daemon=True)
    worker.start()
    worker.join(ERROR_TEARDOWN_SECONDS)
