"""The conformance matrix: every case × backend × dtype against the NumPy reference.

On NumPy the reference itself is checked against the case's Keras 2 facts (``expected``/``check``), and
against the tf_keras oracle (``test_oracle``) when tf_keras is installed.
"""

import hashlib
import importlib.util

import numpy as np
import pytest

import kbackend as K
from cases import Arr, Case, Ints, Rand, all_cases
from conftest import BACKENDS

CASES = all_cases()

TOLERANCE = {  # dtype → (rtol, atol)
    "float16": (1e-2, 1e-2),
    "bfloat16": (4e-2, 4e-2),
    "float32": (1e-5, 1e-5),
    "float64": (1e-9, 1e-9),
}


def _rng(case, dtype):
    digest = hashlib.sha256(f"{case.id}/{dtype}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:8], "little"))


def numpy_inputs(case, dtype):
    """The case's inputs as NumPy arrays (a structure parallel to args/kwargs)."""
    rng = _rng(case, dtype)

    def make(spec):
        if isinstance(spec, Rand):
            values = rng.uniform(spec.low, spec.high, size=spec.shape)
            return _np_cast(values, spec.dtype or dtype)
        if isinstance(spec, Ints):
            return rng.integers(spec.low, spec.high, size=spec.shape).astype(spec.dtype)
        if isinstance(spec, Arr):
            if spec.dtype:
                return _np_cast(np.asarray(spec.value), spec.dtype)
            value = np.asarray(spec.value)
            return _np_cast(value, dtype) if spec.floating else value
        if isinstance(spec, list):
            return [make(s) for s in spec]
        return spec

    return [make(a) for a in case.args], {k: make(v) for k, v in case.kwargs.items()}


def _np_cast(values, dtype):
    from kbackend.dtypes import numpy_dtype

    return np.asarray(values).astype(numpy_dtype(dtype))


def to_backend(case, np_args, np_kwargs):
    """Turn the NumPy inputs into tensors of the active backend (variables where the case asks)."""

    def convert(spec, value):
        if isinstance(spec, (Rand, Ints, Arr)):
            if isinstance(spec, Rand) and spec.variable:
                return K.variable(value, dtype=K.dtype(value))
            return K.constant(value, dtype=K.dtype(value))
        if isinstance(spec, list):
            return [convert(s, v) for s, v in zip(spec, value)]
        return value

    args = [convert(s, v) for s, v in zip(case.args, np_args)]
    kwargs = {k: convert(case.kwargs[k], v) for k, v in np_kwargs.items()}
    return args, kwargs


def evaluate(out):
    """Nested outputs → nested NumPy values."""
    if isinstance(out, (list, tuple)):
        return type(out)(evaluate(o) for o in out)
    if out is None or isinstance(out, (bool, int, float, str)):
        return out
    return np.asarray(K.eval(out))


def run(case, backend, dtype):
    np_args, np_kwargs = numpy_inputs(case, dtype)
    with K.backend_scope(backend):
        args, kwargs = to_backend(case, np_args, np_kwargs)
        out = getattr(K, case.op)(*args, **kwargs)
        return evaluate(out), (np_args, np_kwargs)


def assert_close(actual, expected, dtype, case, what):
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected), (
            f"{what}: got {type(actual).__name__} of {len(actual) if hasattr(actual, '__len__') else '?'}, "
            f"expected {len(expected)} outputs"
        )
        for a, e in zip(actual, expected):
            assert_close(a, e, dtype, case, what)
        return
    if expected is None or isinstance(expected, (bool, int, float, str)) and not isinstance(actual, np.ndarray):
        assert actual == expected, f"{what}: {actual!r} != {expected!r}"
        return
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    if case.compare == "shape":
        return
    assert K.dtype(actual) == K.dtype(expected), f"{what}: dtype {actual.dtype} != {expected.dtype}"
    rtol, atol = TOLERANCE.get(dtype, (1e-6, 1e-6))
    rtol = case.rtol if case.rtol is not None and dtype in ("float32", "float64") else rtol
    atol = case.atol if case.atol is not None and dtype in ("float32", "float64") else atol
    if actual.dtype.kind in "fc" or str(actual.dtype) == "bfloat16":
        np.testing.assert_allclose(actual.astype(np.float64), expected.astype(np.float64), rtol=rtol,
                                   atol=atol, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, expected, err_msg=what)


def _params():
    for case in CASES:
        for backend in BACKENDS:
            for dtype in case.dtypes:
                yield pytest.param(case, backend, dtype, id=f"{case.id}-{backend}-{dtype}")


@pytest.mark.parametrize("case,backend,dtype", list(_params()))
def test_case(case, backend, dtype):
    actual, (np_args, np_kwargs) = run(case, backend, dtype)
    if backend == "numpy":
        if case.expected is not None:
            expected = case.expected(*np_args, **np_kwargs) if callable(case.expected) else case.expected
            assert_close(actual, expected, dtype, case, f"{case.id}: reference vs Keras 2 fact")
    else:
        reference, _ = run(case, "numpy", dtype)
        assert_close(actual, reference, dtype, case, f"{case.id}: {backend} vs reference")
    if case.check is not None:
        case.check(actual, *np_args, **np_kwargs)


HAVE_ORACLE = importlib.util.find_spec("tf_keras") is not None


def _oracle_params():
    if not HAVE_ORACLE:
        return
    from oracle import has_op

    for case in CASES:
        if case.oracle is True and "float32" in case.dtypes and has_op(case.op):
            yield pytest.param(case, id=f"{case.id}-tf_keras-float32")


@pytest.mark.skipif(not HAVE_ORACLE, reason="tf_keras (the Keras 2 oracle) is not installed")
@pytest.mark.parametrize("case", list(_oracle_params()))
def test_oracle(case):
    """The NumPy reference agrees with tf_keras.backend, the maintained Keras 2 implementation."""
    from oracle import run_oracle

    actual, _ = run(case, "numpy", "float32")
    expected = run_oracle(case, numpy_inputs(case, "float32"))
    assert_close(actual, expected, "float32", case, f"{case.id}: reference vs tf_keras")
