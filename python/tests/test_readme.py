"""The README's Python section runs as written: its example, in a private /dev/shm."""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest

import shmq

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"
MODULE_DIR = str(pathlib.Path(shmq.__file__).resolve().parent)


def python_section_examples():
    section = README.read_text().split("\n## Python\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None,
                    reason="runs the example in a mount namespace of its own, with a fresh /dev/shm")
def test_the_readme_example_runs_as_written(tmp_path):
    examples = python_section_examples()
    assert len(examples) == 1
    script = tmp_path / "example.py"
    script.write_text(examples[0])
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [MODULE_DIR, os.environ.get("PYTHONPATH")])))
    run = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         'mount -t tmpfs tmpfs /dev/shm && exec "$0" "$1"', sys.executable, str(script)],
        env=environment, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "0 b'buy 100 XYZ'\n1 b'sell 5 ABC'\n"
