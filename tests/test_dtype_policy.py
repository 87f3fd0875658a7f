"""The dtype policy (kbackend.dtypes.POLICY) on every engine: dtype-pair records of the ``promote`` ops,
Python values passed as tensors, and the drifts issue #9 found (``dot(int32, float32)``, mixed
``maximum`` / ``concatenate`` / ``batch_normalization``, NumPy float64 scalars meeting float32)."""

import numpy as np
import pytest

import kbackend as K
from cases.dtype_pairs import ELEMENTWISE, SCALAR_PAIRS, TENSOR_ONLY, TENSOR_PAIRS
from conftest import BACKENDS
from kbackend.dtypes import numpy_dtype, promote

TOLERANCE = {"float16": 1e-2, "bfloat16": 4e-2, "float32": 1e-5, "float64": 1e-9}
SCALARS = {"pyfloat": 2.5, "pyint": 2, "npfloat64": np.float64(2.5)}


def _operand(kind, shape):
    """A NumPy value of ``kind`` (a dtype name, or a scalar kind of SCALARS) with values 1, 2, 3…"""
    if kind in SCALARS:
        return SCALARS[kind]
    values = np.arange(1, 1 + int(np.prod(shape))).reshape(shape) % 3
    return values.astype(numpy_dtype(kind))


def _tensor(value):
    return value if np.isscalar(value) else K.constant(value, dtype=K.dtype(value))


def _expected(op, x, y, computed):
    """The op's value in NumPy, on float64 copies of the operands, cast to the computed dtype."""
    def wide(v):
        return np.float64(v) if np.isscalar(v) else v.astype(numpy_dtype(computed)).astype(np.float64)

    a, b = wide(x), wide(y)
    if op == "dot":
        return np.dot(a, b).astype(numpy_dtype(computed))
    if op == "batch_dot":
        return np.sum(a * b, axis=1, keepdims=True).astype(numpy_dtype(computed))
    if op == "concatenate":
        return np.concatenate([a, b], axis=-1).astype(numpy_dtype(computed))
    out = {"maximum": np.maximum, "minimum": np.minimum, "pow": np.power, "equal": np.equal,
           "not_equal": np.not_equal, "greater": np.greater, "greater_equal": np.greater_equal,
           "less": np.less, "less_equal": np.less_equal}[op](a, b)
    return out if ELEMENTWISE[op] else out.astype(numpy_dtype(computed))


def _records():
    for a, b, computed in TENSOR_PAIRS:
        for x, y in ((a, b), (b, a)):
            for op in list(ELEMENTWISE) + list(TENSOR_ONLY):
                yield op, x, y, computed
    for tensor, scalar, computed in SCALAR_PAIRS:
        for x, y in ((tensor, scalar), (scalar, tensor)):
            for op in ELEMENTWISE:
                yield op, x, y, computed


def _params():
    for op, x, y, computed in _records():
        for backend in BACKENDS:
            yield pytest.param(op, x, y, computed, backend, id=f"{op}-{backend}-{x}-{y}")


@pytest.mark.parametrize("op,x_kind,y_kind,computed,backend", list(_params()))
def test_dtype_pair(op, x_kind, y_kind, computed, backend):
    shape = {"dot": ((2, 3), (3, 2)), "batch_dot": ((2, 3), (2, 3))}.get(op, ((2, 3), (2, 3)))
    x, y = _operand(x_kind, shape[0]), _operand(y_kind, shape[1])
    with K.backend_scope(backend):
        args = ([_tensor(x), _tensor(y)],) if op == "concatenate" else (_tensor(x), _tensor(y))
        out = getattr(K, op)(*args)
        value = np.asarray(K.eval(out))
    want = "bool" if ELEMENTWISE.get(op) else computed
    assert K.dtype(value) == want, f"{op}({x_kind}, {y_kind}) on {backend}: {K.dtype(value)}, expected {want}"
    expected = _expected(op, x, y, computed)
    if want == "bool":
        np.testing.assert_array_equal(value, expected)
    else:
        tol = TOLERANCE.get(want, 0)
        np.testing.assert_allclose(value.astype(np.float64), expected.astype(np.float64), rtol=tol, atol=tol)


@pytest.mark.parametrize("a,b,computed", TENSOR_PAIRS, ids=[f"{a}-{b}" for a, b, _ in TENSOR_PAIRS])
def test_declared_table(a, b, computed):
    """The declared table (kbackend.dtypes.promote) states the records' facts, both ways round."""
    assert promote(a, b) == computed and promote(b, a) == computed


def _python_values():
    """(id, call, expected dtype): Python numbers and lists passed as tensors take TensorFlow's types."""
    return [
        ("tanh-pyfloat", lambda: K.tanh(2.5), "float32"),
        ("exp-pyint", lambda: K.exp(1), "float32"),
        ("pow-two-pynumbers", lambda: K.pow(2.5, 2), "float32"),
        ("maximum-two-pyints", lambda: K.maximum(2, 3), "int32"),
        ("reshape-pyfloat-list", lambda: K.reshape([[1.0, 2.0], [3.0, 4.0]], (4,)), "float32"),
        ("reshape-pyint-list", lambda: K.reshape([[1, 2], [3, 4]], (4,)), "int32"),
        ("maximum-list-float32", lambda: K.maximum([1.0, 5.0], np.array([2.0, 3.0], "float32")), "float32"),
        ("maximum-int-list-float32", lambda: K.maximum([1, 5], np.array([2.0, 3.0], "float32")), "float32"),
        ("batch_normalization-int32-stats", lambda: K.batch_normalization(
            np.ones((2, 3), "float32"), np.zeros(3, "int32"), np.ones(3, "int32"), None, None), "float32"),
        ("batch_normalization-int32-x", lambda: K.batch_normalization(
            np.ones((2, 3), "int32"), np.zeros(3, "float32"), np.ones(3, "float32"), None, None), "float32"),
        ("sum-float16", lambda: K.sum(np.ones((2, 3), "float16") * 1000), "float16"),
        ("mean-bool", lambda: K.mean(np.array([True, False])), "float32"),
        ("argmax-float32", lambda: K.argmax(np.ones((2, 3), "float32")), "int64"),
        ("any-float32", lambda: K.any(np.ones((2, 3), "float32")), "bool"),
    ]


@pytest.mark.parametrize("call,expected,backend", [
    pytest.param(call, expected, backend, id=f"{name}-{backend}")
    for name, call, expected in _python_values() for backend in BACKENDS])
def test_python_values(call, expected, backend):
    with K.backend_scope(backend):
        assert K.dtype(call()) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_float16_sum_accumulates_in_float32(backend):
    """``accumulate-half``: 3000 float16 ones sum to 3000 (float16 accumulation would stop at 2048)."""
    with K.backend_scope(backend):
        value = np.asarray(K.eval(K.sum(K.constant(np.ones(3000, "float16"), dtype="float16"))))
    assert value.dtype == np.float16 and value == 3000
