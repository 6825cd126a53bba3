"""Test set-up: finds the module and the sample programs in a build directory.

SHMQ_BUILD_DIR names it (default: build/release at the repository root). The module is imported
from $SHMQ_BUILD_DIR/python unless PYTHONPATH already provides one; the programs are
$SHMQ_BUILD_DIR/producer/shmq-producer and $SHMQ_BUILD_DIR/consumer/shmq-consumer.
"""

import os
import pathlib
import sys
import uuid

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD_DIR = pathlib.Path(os.environ.get("SHMQ_BUILD_DIR", REPO / "build" / "release")).resolve()

try:
    import shmq  # noqa: F401  (PYTHONPATH may point at an installed module)
except ImportError:
    sys.path.insert(0, str(BUILD_DIR / "python"))
    import shmq  # noqa: F401

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

shmq.set_log_level("warning")  # the library's attach/detach lines would drown pytest's output


def program(name: str) -> pathlib.Path:
    """The path of a sample program (shmq-producer, shmq-consumer); skips the test if it is not built."""
    path = BUILD_DIR / name.removeprefix("shmq-") / name
    if not os.access(path, os.X_OK):
        pytest.skip(f"{path} is not built (set SHMQ_BUILD_DIR)")
    return path


@pytest.fixture
def queue_path():
    """A path in /dev/shm for a new queue, removed after the test."""
    path = pathlib.Path(f"/dev/shm/shmq-pytest-{os.getpid()}-{uuid.uuid4().hex[:12]}")
    yield path
    path.unlink(missing_ok=True)


# A deadline that only detects a hang: far longer than any correct run takes.
HANG_TIMEOUT = 120.0
