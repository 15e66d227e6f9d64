"""Distributed runs, also without GPUs: the gloo backend and DDP without device ids when no GPU is visible, and a
process group destroyed before the interpreter exits.

(``--device`` cannot be handled here: it must set CUDA_VISIBLE_DEVICES before this package is imported, because
importing MMEngine queries CUDA; tools/train.py and tools/test.py do that first thing.)"""
import datetime
import gc
import threading
from contextlib import contextmanager
from typing import Iterator

# After an error, other ranks may still wait in a collective with this one, and destroying its process group can
# block (NCCL's abort, gloo's worker threads): give it this long, then exit anyway with the error's status.
ERROR_TEARDOWN_SECONDS = 30.0


def adapt_to_cpu_distributed(cfg) -> None:
    """Several processes without GPUs: the gloo backend, and DDP without device ids (edits the config)."""
    import torch
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return
    cfg.env_cfg.dist_cfg = dict(backend='gloo')
    cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)


def init_cpu_process_group(launcher: str, env_cfg: dict) -> bool:
    """Start the process group with gloo when there is no GPU. MMEngine's init_dist for the pytorch launcher always
    calls torch.cuda.set_device; started here, MMEngine then finds it initialised. Returns whether it started one."""
    import torch
    if torch.cuda.is_available() or torch.distributed.is_initialized():
        return False
    if launcher != 'pytorch':
        raise RuntimeError(f'launcher {launcher!r} without GPUs is not supported; use torchrun')
    timeout = env_cfg.get('dist_cfg', {}).get('timeout')
    kwargs = {} if timeout is None else dict(timeout=datetime.timedelta(seconds=timeout))
    torch.distributed.init_process_group(backend='gloo', **kwargs)
    return True


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
    # The finished runner and its DDP model sit in reference cycles that hold the process group: collected here, on
    # the main thread, not by a gloo thread during the interpreter's exit (the abort described above, seen once in
    # five suite runs on torch 2.14 too).
    gc.collect()
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
