"""The type stubs (shmq.pyi) describe the module as built: the same names, classes and members."""

import ast
import inspect
import os
import pathlib
import subprocess
import sys

import shmq

STUB = pathlib.Path(__file__).resolve().parents[1] / "shmq.pyi"
ALLOWLIST = STUB.parent / "stubtest-allowlist.txt"
MODULE_DIR = pathlib.Path(shmq.__file__).resolve().parent  # the built module, with a copy of the stub


def stub_names():
    """{name: members of the class, or None for a function} as the stub declares them."""
    names = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.ClassDef):
            members = set()
            for member in node.body:
                if isinstance(member, ast.FunctionDef) and member.name != "__init__":  # as module_names()
                    members.add(member.name)
                elif isinstance(member, ast.AnnAssign):
                    members.add(member.target.id)
            names[node.name] = members
        elif isinstance(node, ast.FunctionDef):
            names[node.name] = None
    return names


SPECIAL = {"__len__", "__bytes__", "__iter__", "__next__", "__enter__", "__exit__"}


def module_names():
    """The same, as the module has them."""
    names = {}
    for name, value in vars(shmq).items():
        if name.startswith("_"):
            continue
        if inspect.isclass(value):
            names[name] = {n for n in vars(value) if not n.startswith("_") or n in SPECIAL}
        elif callable(value):
            names[name] = None
    return names


def test_stub_and_module_have_the_same_names():
    stub, module = stub_names(), module_names()
    assert sorted(stub) == sorted(module)


def test_stub_and_module_classes_have_the_same_members():
    stub, module = stub_names(), module_names()
    for name, members in module.items():
        if members is None or issubclass(getattr(shmq, name), BaseException):
            continue
        assert stub[name] == members, name


def test_every_public_name_has_a_docstring():
    for name, value in vars(shmq).items():
        if not name.startswith("_") and callable(value):
            assert inspect.getdoc(value), name


def mypy(*args, cwd=MODULE_DIR):
    """Runs Debian's mypy (python3 -m mypy ...) on the stub next to the built module."""
    environment = dict(os.environ, MYPYPATH=str(MODULE_DIR))
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=environment, capture_output=True, text=True,
                          timeout=600)


def test_the_stub_passes_stubtest():
    assert (MODULE_DIR / "shmq.pyi").read_text() == STUB.read_text(), "rebuild: the stub next to the module is old"
    run = mypy("mypy.stubtest", "shmq", "--allowlist", str(ALLOWLIST))
    assert run.returncode == 0, run.stdout + run.stderr


def test_code_using_the_module_type_checks(tmp_path):
    program = tmp_path / "user.py"
    program.write_text(
        "import shmq\n"
        "def main(path: str) -> None:\n"
        "    with shmq.Producer.create(path, capacity=4096) as producer:\n"
        "        sequence: int = producer.send_batch([b'a', bytearray(b'b'), memoryview(b'c')])\n"
        "        maybe = producer.try_send(b'x', publish=False)\n"
        "        if maybe is not None:\n"
        "            print(sequence + maybe)\n"
        "    with shmq.Consumer.open(path) as consumer:\n"
        "        for message in consumer:\n"
        "            data: bytes = bytes(message)\n"
        "            print(message.sequence, data, len(message.data))\n"
        "    try:\n"
        "        shmq.Consumer.open(path)\n"
        "    except FileNotFoundError as error:\n"
        "        print(error.errno)\n")
    run = mypy("mypy", "--strict", str(program), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("import shmq\nshmq.Producer.create('/dev/shm/x').send(42)\n")
    run = mypy("mypy", str(broken), cwd=tmp_path)
    assert run.returncode != 0 and "send" in run.stdout, "the stub must reject a message that is not bytes"
