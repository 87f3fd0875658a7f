"""Every K function's docstring example runs and prints what it says (on NumPy), and its docstring lists
every parameter under Args and what it raises under Raises."""

import doctest
import inspect
import re

import pytest

import kbackend as K
from kbackend import config
from kbackend._dispatch import OPS

CONFIG_FUNCTIONS = [getattr(config, name) for name in (
    "floatx", "set_floatx", "epsilon", "set_epsilon", "image_data_format", "set_image_data_format",
    "normalize_data_format", "image_dim_ordering", "set_image_dim_ordering", "cast_to_floatx", "get_uid",
    "reset_uids", "set_learning_phase")]
DOCUMENTED = {name: spec.reference for name, spec in OPS.items()}
DOCUMENTED.update({f.__name__: f for f in CONFIG_FUNCTIONS})
DOCUMENTED.update({name: getattr(K, name) for name in ("placeholder", "function", "gradients", "name_scope",
                                                       "control_dependencies", "backend_scope", "clear_session")})


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_docstring_example(name):
    fn = DOCUMENTED[name]
    assert fn.__doc__ and ">>>" in fn.__doc__, f"{name} has no runnable example"
    K.clear_session()  # the examples show a fresh session (eager until their own placeholders)
    with K.backend_scope("numpy"):
        finder = doctest.DocTestFinder(recurse=False)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        for test in finder.find(fn, name, globs={}):
            runner.run(test)
        assert runner.failures == 0, f"{name}: {runner.failures} docstring example(s) failed (see output)"


def _public_functions():
    for name in K.__all__:
        spec = OPS.get(name)
        yield name, spec.reference if spec is not None else inspect.unwrap(getattr(K, name))


def _section(doc, title):
    """The entries of a Google-style section: the lines after ``title:`` up to the next blank line."""
    if f"\n{title}:" not in "\n" + doc:
        return None
    block = ("\n" + doc).split(f"\n{title}:", 1)[1].split("\n\n", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("name, fn", sorted(_public_functions()), ids=lambda value: value if isinstance(value, str) else "")
def test_docstring_lists_every_parameter_and_what_it_raises(name, fn):
    doc = inspect.getdoc(fn) or ""
    parameters = list(inspect.signature(fn).parameters)
    if parameters:
        entries = _section(doc, "Args")
        assert entries is not None, f"{name}: no Args section"
        listed = set()
        for entry in entries:
            match = re.match(r"\s{4}([*\w][\w, *]*):", entry)
            if match:
                listed.update(part.strip().lstrip("*") for part in match.group(1).split(","))
        assert set(parameters) <= listed, f"{name}: Args does not list {sorted(set(parameters) - listed)}"
    if parameters or name in OPS:
        entries = _section(doc, "Raises")
        assert entries, f"{name}: no Raises section"
        assert all(re.match(r"\s{4}(\w+(Error|Exception)|Nothing): \S", e) or e.startswith(" " * 8) for e in entries), \
            f"{name}: Raises entries must read 'SomeError: when'"
