"""Every K function's docstring example runs and prints what it says (on NumPy)."""

import doctest

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
