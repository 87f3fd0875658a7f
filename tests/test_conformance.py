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
    """Nested outputs → nested NumPy values (sparse tensors → (indices, values, dense_shape))."""
    if all(hasattr(out, a) for a in ("indices", "values", "dense_shape")) and not isinstance(out, tuple):
        return tuple(np.asarray(K.eval(getattr(out, a))) for a in ("indices", "values", "dense_shape"))
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
    if dtype in ("float32", "float64"):  # a case may loosen the tolerance (e.g. an engine's float64 kernel)
        rtol = max(rtol, case.rtol or 0.0)
        atol = max(atol, case.atol or 0.0)
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
        if case.oracle is True and has_op(case.op):
            dtype = "float32" if "float32" in case.dtypes else case.dtypes[0]
            yield pytest.param(case, dtype, id=f"{case.id}-tf_keras-{dtype}")


@pytest.mark.skipif(not HAVE_ORACLE, reason="tf_keras (the Keras 2 oracle) is not installed")
@pytest.mark.parametrize("case,dtype", list(_oracle_params()))
def test_oracle(case, dtype):
    """The NumPy reference agrees with tf_keras.backend, the maintained Keras 2 implementation."""
    from oracle import run_oracle

    actual, _ = run(case, "numpy", dtype)
    expected = run_oracle(case, numpy_inputs(case, dtype))
    assert_close(actual, expected, dtype, case, f"{case.id}: reference vs tf_keras")


# ---------------------------------------------------------------------------------------------------
# symbolic pass: the same case through placeholders (some dims unknown) and K.function

#: Ops whose answer is about the placeholder itself rather than the fed value.
INTROSPECTION = {"int_shape", "ndim", "dtype", "count_params", "is_tensor", "is_variable", "is_sparse",
                 "is_placeholder", "is_keras_tensor", "variable", "constant", "eval", "get_value", "zeros",
                 "ones", "eye", "random_uniform_variable", "random_normal_variable", "batch_get_value",
                 "update", "update_add", "update_sub", "moving_average_update", "set_value",
                 "batch_set_value", "to_dense", "get_variable_shape"}


def _has_tensor_input(case):
    specs = list(case.args) + list(case.kwargs.values())
    flat = [s for spec in specs for s in (spec if isinstance(spec, list) else [spec])]
    return any(isinstance(s, (Rand, Ints, Arr)) and not (isinstance(s, Rand) and s.variable) for s in flat)


def _symbolic_params():
    for case in CASES:
        if case.symbolic is not True or case.op in INTROSPECTION or not _has_tensor_input(case):
            continue
        for backend in BACKENDS:
            for dtype in case.dtypes:
                if dtype in ("float32", "int32") or dtype == case.dtypes[0]:
                    yield pytest.param(case, backend, dtype, id=f"{case.id}-{backend}-{dtype}")


def symbolic_inputs(case, np_args, np_kwargs):
    """Placeholders for the tensor inputs and their feeds.

    The first argument (the data) gets an unknown batch dimension, as Keras models have; the others
    (kernels, biases, shapes) keep static shapes.
    """
    placeholders, feeds = [], []

    def convert(spec, value, batch_unknown):
        if isinstance(spec, (Rand, Ints, Arr)):
            if isinstance(spec, Rand) and spec.variable:
                return K.variable(value, dtype=K.dtype(value))
            shape = tuple(None if i == 0 and batch_unknown and value.ndim > 1 else d
                          for i, d in enumerate(value.shape))
            placeholder = K.placeholder(shape, dtype=K.dtype(value))
            placeholders.append(placeholder)
            feeds.append(value)
            return placeholder
        if isinstance(spec, list):
            return [convert(s, v, batch_unknown) for s, v in zip(spec, value)]
        return value

    args = [convert(s, v, i == 0) for i, (s, v) in enumerate(zip(case.args, np_args))]
    kwargs = {k: convert(case.kwargs[k], v, False) for k, v in np_kwargs.items()}
    return args, kwargs, placeholders, feeds


def _flatten(out):
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in _flatten(item)]
    return [out]


def _rebuild(template, leaves):
    if isinstance(template, (list, tuple)):
        return type(template)(_rebuild(t, leaves) for t in template)
    return leaves.pop(0)


def run_symbolic(case, backend, dtype):
    from kbackend.graph import is_symbolic

    np_args, np_kwargs = numpy_inputs(case, dtype)
    with K.backend_scope(backend):
        args, kwargs, placeholders, feeds = symbolic_inputs(case, np_args, np_kwargs)
        out = getattr(K, case.op)(*args, **kwargs)
        leaves = _flatten(out)
        symbolic_leaves = [leaf for leaf in leaves if is_symbolic(leaf)]
        values = K.function(placeholders, symbolic_leaves)(feeds) if symbolic_leaves else []
        values = list(values)
        evaluated = [values.pop(0) if is_symbolic(leaf) else evaluate(leaf) for leaf in leaves]
        return _rebuild(out, evaluated)


@pytest.mark.parametrize("case,backend,dtype", list(_symbolic_params()))
def test_symbolic(case, backend, dtype):
    actual = run_symbolic(case, backend, dtype)
    reference, _ = run(case, "numpy", dtype)
    assert_close(actual, reference, dtype, case, f"{case.id}: symbolic {backend} vs eager reference")


# ---------------------------------------------------------------------------------------------------
# gradient pass: K.gradients through K.function against finite differences of the reference

#: Ops whose output is random (dropout is also the identity inside a graph at test phase).
RANDOM_OPS = {"dropout", "random_normal", "random_uniform", "random_binomial", "random_bernoulli",
              "truncated_normal", "random_normal_variable", "random_uniform_variable"}

#: Finite-difference step.  An element whose one-sided differences disagree (a kink: relu at 0, a
#: clipped bound) or whose central differences change with the step (a jump: round at .5, sign at 0)
#: is a point where the reference has no derivative to compare with.
STEP = 1e-6


def _float_inputs(case):
    specs = list(case.args) + list(case.kwargs.values())
    flat = [s for spec in specs for s in (spec if isinstance(spec, list) else [spec])]
    return [s for s in flat if isinstance(s, Rand) and s.dtype in (None, "float64", "float32")
            or isinstance(s, Arr) and s.floating and s.dtype is None]


def _is_float_input(spec, case):
    return any(spec is s for s in _float_inputs(case))


def _is_float_output(value):
    return isinstance(value, np.ndarray) and value.dtype.kind == "f"


def _gradient_params():
    for case in CASES:
        if (case.gradient is not True or case.symbolic is not True or case.compare != "value"
                or case.op in INTROSPECTION | RANDOM_OPS or "float64" not in case.dtypes
                or not _float_inputs(case)):
            continue
        try:
            reference, _ = run(case, "numpy", "float64")
        except Exception:  # noqa: BLE001 - the eager test reports it
            continue
        floats = [leaf for leaf in _flatten(reference) if _is_float_output(leaf)]
        # finite differences of STEP vanish in a float16/float32 result (a cast to float16)
        if not floats or any(leaf.dtype != np.float64 for leaf in floats):
            continue
        for backend in BACKENDS:
            yield pytest.param(case, backend, id=f"{case.id}-{backend}-float64")


def _weights(case, leaves):
    rng = _rng(case, "cotangent")
    return [rng.uniform(0.5, 1.5, size=np.shape(leaf)) if _is_float_output(leaf) else None for leaf in leaves]


def _reference_loss(case, np_args, np_kwargs, weights):
    with K.backend_scope("numpy"):
        args, kwargs = to_backend(case, np_args, np_kwargs)
        leaves = [np.asarray(K.eval(v)) if v is not None and not isinstance(v, (int, float, bool)) else v
                  for v in _flatten(getattr(K, case.op)(*args, **kwargs))]
    return sum(float(np.sum(leaf.astype(np.float64) * w)) for leaf, w in zip(leaves, weights) if w is not None)


@pytest.mark.parametrize("case,backend", list(_gradient_params()))
def test_gradient(case, backend):
    from kbackend.graph import is_symbolic

    np_args, np_kwargs = numpy_inputs(case, "float64")
    reference, _ = run(case, "numpy", "float64")
    weights = _weights(case, _flatten(reference))
    with K.backend_scope(backend):
        placeholders, feeds, positions = [], [], []

        def convert(spec, value, where):
            if isinstance(spec, (Rand, Ints, Arr)):
                tensor = K.placeholder(value.shape, dtype=K.dtype(value))
                placeholders.append(tensor)
                feeds.append(value)
                if _is_float_input(spec, case) and value.dtype == np.float64:
                    positions.append((len(placeholders) - 1, where))
                return tensor
            if isinstance(spec, list):
                return [convert(s, v, where + (i,)) for i, (s, v) in enumerate(zip(spec, value))]
            return value

        args = [convert(s, v, ("args", i)) for i, (s, v) in enumerate(zip(case.args, np_args))]
        kwargs = {k: convert(case.kwargs[k], v, ("kwargs", k)) for k, v in np_kwargs.items()}
        leaves = _flatten(getattr(K, case.op)(*args, **kwargs))
        terms = [K.sum(K.cast(leaf, "float64") * K.constant(w, dtype="float64"))
                 for leaf, w in zip(leaves, weights) if w is not None and is_symbolic(leaf)]
        loss = terms[0]
        for term in terms[1:]:
            loss = loss + term
        wrt = [placeholders[i] for i, _ in positions]
        grads = K.function(placeholders, K.gradients(loss, wrt))(feeds)

    rng = _rng(case, "finite-differences")
    centre = _reference_loss(case, np_args, np_kwargs, weights)
    for (index, where), grad in zip(positions, grads):
        value = feeds[index]
        assert grad.shape == value.shape
        flat_indices = rng.choice(value.size, size=min(value.size, 6), replace=False)
        for flat in flat_indices:
            element = np.unravel_index(flat, value.shape)
            estimates = {}
            for offset in (STEP, -STEP, 2 * STEP, -2 * STEP):
                shifted = value.copy()
                shifted[element] += offset
                new_args, new_kwargs = _replace(np_args, np_kwargs, where, shifted)
                estimates[offset] = _reference_loss(case, new_args, new_kwargs, weights)
            forward, backward = (estimates[STEP] - centre) / STEP, (centre - estimates[-STEP]) / STEP
            wide = (estimates[2 * STEP] - estimates[-2 * STEP]) / (4 * STEP)
            numeric = (forward + backward) / 2
            if not (np.isfinite([forward, backward, wide]).all()
                    and np.isclose(forward, backward, rtol=1e-3, atol=1e-3)
                    and np.isclose(numeric, wide, rtol=1e-3, atol=1e-3)):
                continue
            np.testing.assert_allclose(grad[element], numeric, rtol=1e-4, atol=1e-5,
                                       err_msg=f"{case.id}: d loss / d input {where} at {element}")


def _replace(np_args, np_kwargs, where, value):
    args, kwargs = list(np_args), dict(np_kwargs)
    kind, key, *rest = where
    container = args if kind == "args" else kwargs
    if rest:
        items = list(container[key])
        items[rest[0]] = value
        container[key] = items
    else:
        container[key] = value
    return args, kwargs
