"""The type stubs (shmq.pyi) describe the module as built: the same names, classes and members."""

import ast
import inspect
import pathlib

import shmq

STUB = pathlib.Path(__file__).resolve().parents[1] / "shmq.pyi"


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


SPECIAL = {"__len__", "__iter__", "__next__", "__enter__", "__exit__"}


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
