"""The examples of issue #9 ("Found") that ``tests/test_agree.py`` and ``tests/test_graph.py`` leave out.

Each runs on every installed engine and asserts the Keras 2 answer (the NumPy reference, or tf_keras
where it is installed) or the shared error contract: a ``ValueError``/``TypeError`` whose message
starts with the op's name, never an engine's own exception.
"""

import re

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

X = np.array([[-2.0, 0.5, 0.0], [3.0, -1e-8, 4.0]], np.float32)


def value(x):
    return np.asarray(K.eval(x))


@pytest.mark.parametrize("backend", BACKENDS)
def test_l2_normalize_over_no_axis_divides_each_element_by_itself(backend):
    """``axis=[]`` normalises over no axis: ``x / sqrt(max(x², 1e-12))``, the sign of ``x`` where
    ``|x| > 1e-6`` (torch's norm read it as every axis)."""
    with K.backend_scope(backend):
        got = value(K.l2_normalize(K.constant(X), axis=[]))
    expected = X / np.sqrt(np.maximum(X * X, np.float32(1e-12)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    np.testing.assert_allclose(got.reshape(-1)[[0, 1, 3, 5]], [-1.0, 1.0, 1.0, 1.0])


def test_l2_normalize_over_no_axis_is_keras2():
    oracle = pytest.importorskip("tf_keras.backend")
    np.testing.assert_allclose(oracle.l2_normalize(X, axis=[]).numpy(), K.l2_normalize(X, axis=[]), rtol=1e-6)


def _gelu(x):
    return 0.5 * x * (1 + K.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * K.pow(x, 3))))


def _attention_scores(q):
    return K.batch_dot(q, q, axes=[2, 2]) / np.sqrt(q.shape[-1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,fn,shape", [("gelu", _gelu, (2, 3)), ("attention", _attention_scores, (2, 3, 4))],
                         ids=["gelu", "attention"])
def test_float64_numpy_scalars_keep_float32(name, fn, shape, backend):
    """Keras 2 code divides and multiplies float32 tensors by ``np.sqrt(...)`` (a NumPy float64): the
    result stays float32, as on TensorFlow."""
    x = np.linspace(-2.0, 2.0, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    with K.backend_scope(backend):
        got = value(fn(K.constant(x)))
    with K.backend_scope("numpy"):
        expected = np.asarray(fn(x), np.float64)
    assert got.dtype == np.float32, f"{name}: {got.dtype}"
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ["max", "min"])
def test_max_of_an_empty_axis_is_a_named_error(name, backend):
    """torch leaked ``RuntimeError`` for ``K.max(empty)``: an empty reduction without identity is refused."""
    with K.backend_scope(backend):
        with pytest.raises(ValueError, match="^" + name + ": "):
            K.eval(getattr(K, name)(K.constant(np.zeros((0, 3), np.float32))))


def _returns_or_names(op, call):
    """``call()``'s value, or None when it raised ``ValueError``/``TypeError`` named after ``op``.

    Anything else (``KeyError``, ``OverflowError``, an engine's own exception) fails the test."""
    try:
        return value(call())
    except (ValueError, TypeError) as exc:
        assert re.match(re.escape(op) + ": ", str(exc)), f"{op}: unnamed {type(exc).__name__}: {exc}"
        return None


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", ["zeros", "ones", "constant", "variable", "cast"])
def test_a_string_dtype_never_leaks_key_error(op, backend):
    """torch leaked ``KeyError: 'string'`` (22 calls) for ``dtype='string'``."""
    calls = {"zeros": lambda: K.zeros((2,), dtype="string"), "ones": lambda: K.ones((2,), dtype="string"),
             "constant": lambda: K.constant(0, dtype="string", shape=(2,)),
             "variable": lambda: K.variable(np.zeros(2), dtype="string"),
             "cast": lambda: K.cast(K.constant(X), "string")}
    with K.backend_scope(backend):
        _returns_or_names(op, calls[op])


HUGE = {
    "clip": lambda: K.clip(K.constant(X), 0, 10**30),
    "pow": lambda: K.pow(K.constant(X), 10**30),
    "constant": lambda: K.constant(10**30),
    "sum": lambda: K.sum(K.constant(X), axis=10**30),
    "random_normal": lambda: K.random_normal((2,), mean=10**30, seed=1),
    "random_uniform": lambda: K.random_uniform((2,), maxval=1e308, seed=1),
    "one_hot": lambda: K.one_hot(np.array([0, 1]), 10**30),
    "relu": lambda: K.relu(K.constant(X), max_value=10**30),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", sorted(HUGE))
def test_huge_python_numbers_never_leak_overflow_error(op, backend):
    """Huge Python ints and floats gave ``OverflowError``: now an answer or the op's named error."""
    with K.backend_scope(backend):
        _returns_or_names(op, HUGE[op])


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_mask_that_would_enlarge_x_is_refused(backend):
    """Found by the fuzz suite: a ``(None, 1)`` mask on a rank-1 ``x`` broadcast the output to
    ``(n, n)``; JAX aborted the process reading it.  The mask must broadcast to ``x`` as it is."""
    with K.backend_scope(backend):
        with pytest.raises(ValueError, match=r"^dropout: argument `noise_shape` got \(None, 1\); expected 1 entries"):
            K.dropout(K.constant(np.ones(5, np.float32)), 0.5, noise_shape=(None, 1), seed=1)
        with pytest.raises(ValueError, match=r"^dropout: argument `noise_shape` got \(4, 3\)"):
            K.dropout(K.constant(np.ones((4, 1), np.float32)), 0.5, noise_shape=(4, 3), seed=1)
        kept = value(K.dropout(K.constant(np.ones((4, 3), np.float32)), 0.5, noise_shape=(None, 1), seed=1))
    assert kept.shape == (4, 3) and np.all((kept == 0).all(axis=1) | (kept == 2).all(axis=1))


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_pooling_window_beyond_memory_raises_before_allocating(backend):
    """Found by the fuzz suite: TensorFlow's MaxPool crashed (SIGSEGV) on a 10**9 × 10**9 'same' window."""
    with K.backend_scope(backend):
        x = K.constant(np.ones((1, 4, 4, 1), np.float32))
        with pytest.raises(MemoryError, match=r"^pool2d: argument `pool_size` got \(1000000000, 1000000000\)"):
            K.pool2d(x, (10**9, 10**9), padding="same")


@pytest.mark.parametrize("backend", BACKENDS)
def test_relu_and_clip_are_keras2_at_the_edges(backend):
    """Found by the fuzz suite, checked against tf_keras: a negative ``max_value`` saturates at 0, a NaN
    bound propagates, ``-inf`` below a threshold is NaN (``x * (x > t)``), and int and bool inputs keep
    their dtype."""
    x = np.array([-np.inf, -2.0, 0.5, 3.0], np.float32)
    with K.backend_scope(backend):
        np.testing.assert_array_equal(value(K.relu(K.constant(x), max_value=-1.0)), [0, 0, 0, 0])
        assert np.isnan(value(K.relu(K.constant(x), max_value=np.nan))).all()
        assert np.isnan(value(K.clip(K.constant(x), np.nan, 1.0))).all()
        np.testing.assert_array_equal(value(K.relu(K.constant(x), threshold=0.7)), [np.nan, -0.0, 0, 3])
        ints = value(K.relu(K.constant(np.array([-2, 3, 9], np.int32), dtype="int32"), max_value=6))
        bools = value(K.square(K.constant(np.array([True, False]), dtype="bool")))
    assert ints.dtype == np.int32 and ints.tolist() == [0, 3, 6]
    assert bools.dtype == np.bool_ and bools.tolist() == [True, False]


@pytest.mark.parametrize("backend", BACKENDS)
def test_in_top_k_is_false_for_unknown_targets_and_non_finite_predictions(backend):
    """Keras 2's (TensorFlow's) InTopK: an inf or NaN target prediction, or a target outside the classes,
    is not in the top k; an inf elsewhere in the row does not spoil the target's value."""
    predictions = np.array([[np.inf, 1.0], [np.nan, 1.0], [1.0, 2.0], [3.0, np.inf], [1.0, 1.0]], np.float32)
    targets = np.array([0, 0, 1, 0, 5], np.int32)
    with K.backend_scope(backend):
        got = value(K.in_top_k(K.constant(predictions), K.constant(targets, dtype="int32"), 1))
    np.testing.assert_array_equal(got, [False, False, True, False, False])
