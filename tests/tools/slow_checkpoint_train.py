# tools/train.py with epoch 2's checkpoint writes slowed down (10 chunks, 0.4 s apart), so a test can kill it mid-write.
import runpy
import sys
import time
from pathlib import Path

from mmengine.fileio.backends.local_backend import LocalBackend

_put = LocalBackend.put


def slow_put(self, obj: bytes, filepath) -> None:
    if 'epoch_2' not in str(filepath):
        return _put(self, obj, filepath)
    Path(filepath).parent.mkdir(parents=True, exist_ok=True)
    step = len(obj) // 10 + 1
    with open(filepath, 'wb') as f:
        for i in range(0, len(obj), step):
            f.write(obj[i:i + step])
            f.flush()
            time.sleep(0.4)


LocalBackend.put = slow_put  # mmengine's save_checkpoint writes through the file backend's put()
root = Path(__file__).resolve().parents[2]
sys.argv = [str(root / 'tools' / 'train.py')] + sys.argv[1:]
sys.path[0] = str(root / 'tools')  # as `python tools/train.py` does
runpy.run_path(sys.argv[0], run_name='__main__')
