"""What a reader sees of the generated functions: real files in tracebacks and ``inspect``, module names."""

import inspect
import linecache
import os
import sys
import traceback

import pytest

import kbackend as K
from kbackend._dispatch import OPS, declaration_line, get_backend

OPS_DIR = os.path.join(os.path.dirname(os.path.abspath(K.__file__)), "ops")


@pytest.mark.parametrize("name", ["prod", "batch_dot", "conv2d", "switch", "variable"])
def test_inspect_finds_the_declaration(name):
    public = getattr(K, name)
    path = inspect.getsourcefile(public)
    assert os.path.dirname(path) == OPS_DIR
    assert f"def {name}(" in inspect.getsource(public)
    filename, line = declaration_line(OPS[name].reference)
    assert filename == path and linecache.getline(path, line).startswith(f"def {name}(")


def test_a_traceback_through_an_op_shows_its_declaration():
    try:
        K.prod([1.0, 2.0], axis="rows")
    except TypeError:
        frames = traceback.extract_tb(sys.exc_info()[2])
    else:
        raise AssertionError("K.prod accepted axis='rows'")
    op_frame = frames[-1]
    assert op_frame.filename == inspect.getsourcefile(OPS["prod"].reference)
    assert op_frame.name == "prod"
    assert op_frame.line.startswith("def prod(")


def test_the_generated_text_stays_readable():
    text = "".join(linecache.getlines(K.prod.__kbackend_source__))
    assert text.startswith("def prod(") and "_active().prod(" in text


def test_jax_functions_name_their_module_and_file():
    backend = get_backend("jax").load()
    for name in ("prod", "batch_dot", "conv2d"):
        impl = getattr(backend, name)
        assert impl.__module__.startswith("kbackend.backends.jax."), (name, impl.__module__)
        assert inspect.getsourcefile(impl).endswith(os.path.join("backends", "jax", impl.__module__.split(".")[-1] + ".py"))
