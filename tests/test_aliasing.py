"""No result of kbackend is the storage of a variable or of the caller's array."""

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_function_output_that_is_a_variable_is_a_copy(backend):
    with K.backend_scope(backend):
        v = K.variable([1.0, 2.0])
        x = K.placeholder((2,))
        f = K.function([x], [v, x * v])
        out, product = f([np.array([3.0, 3.0], dtype="float32")])
        out[0] = 99.0
        np.testing.assert_allclose(K.get_value(v), [1.0, 2.0])
        np.testing.assert_allclose(product, [3.0, 6.0])
        np.testing.assert_allclose(f([np.zeros(2, dtype="float32")])[0], [1.0, 2.0])
        single = K.function([x], v)(np.zeros(2, dtype="float32"))
        single[1] = -1.0
        np.testing.assert_allclose(K.get_value(v), [1.0, 2.0])
    K.clear_session()


VIEWS = {"getitem": lambda v: v[0], "stop_gradient": K.stop_gradient, "identity": K.identity,
         "transpose": K.transpose, "reshape": lambda v: K.reshape(v, (4,)), "squeeze-expand": lambda v:
         K.squeeze(K.expand_dims(v, 0), 0), "slice-of-stop_gradient": lambda v: K.stop_gradient(v)[1]}


@pytest.mark.parametrize("view", list(VIEWS))
@pytest.mark.parametrize("backend", BACKENDS)
def test_function_output_that_may_view_a_variable_is_a_copy(backend, view):
    with K.backend_scope(backend):
        v = K.variable([[1.0, 2.0], [3.0, 4.0]])
        x = K.placeholder((2,))
        out = K.function([x], [VIEWS[view](v)])([np.ones(2, dtype="float32")])[0]
        out.flat[0] = 99.0
        np.testing.assert_allclose(K.get_value(v), [[1.0, 2.0], [3.0, 4.0]])
    K.clear_session()


def test_function_output_that_is_a_constant_is_a_copy():
    constant = np.array([1.0, 2.0], dtype="float32")
    x = K.placeholder((2,))
    f = K.function([x], [constant, x + 1.0])
    first = f([np.zeros(2, dtype="float32")])[0]
    first[0] = 99.0
    np.testing.assert_allclose(f([np.zeros(2, dtype="float32")])[0], [1.0, 2.0])
    assert constant[0] == 1.0
    K.clear_session()


def test_cast_to_floatx_returns_a_new_array():
    x = np.array([1.0, 2.0], dtype=K.floatx())
    y = K.cast_to_floatx(x)
    assert y is not x and not np.shares_memory(x, y) and y.dtype == x.dtype
    y[0] = 7.0
    assert x[0] == 1.0
