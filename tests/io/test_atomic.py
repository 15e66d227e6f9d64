"""The atomic writer: nothing half-written under a final name, and the file mode the umask asks for."""
import os
import stat

import pytest

from vinbig_mmdet.io.atomic import atomic_open, current_umask


@pytest.mark.parametrize('umask, mode', [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
def test_mode_follows_the_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        assert current_umask() == umask
        with atomic_open(str(tmp_path / 'submission.csv'), 'w') as f:
            f.write('image_id,PredictionString\n')
        with open(tmp_path / 'plain.csv', 'w') as f:  # what open() would have made
            f.write('x')
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / 'submission.csv').stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / 'plain.csv').stat().st_mode) == mode
