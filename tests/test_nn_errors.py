"""Invalid arguments of the nn and random ops, on every backend: the message names function and argument.

Also the behaviours a conformance case cannot express: seeded reproducibility and ``epsilon()`` read at
call time.
"""

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

X = np.linspace(-1, 1, 24, dtype=np.float32).reshape(2, 3, 4)


def c(value):
    """``value`` as a tensor of the backend in scope."""
    value = np.asarray(value)
    return K.constant(value, dtype=value.dtype.name)


INVALID = [
    ("dropout", lambda: K.dropout(c(X), -0.5), ValueError, "level"),
    ("dropout", lambda: K.dropout(c(X), 1.0), ValueError, "level"),
    ("dropout", lambda: K.dropout(c(X), "half"), TypeError, "level"),
    ("dropout", lambda: K.dropout(c(X), 0.5, noise_shape=3), TypeError, "noise_shape"),
    ("dropout", lambda: K.dropout(c(X), 0.5, seed=1.5), TypeError, "seed"),
    ("bias_add", lambda: K.bias_add(c(X), c(np.zeros((1, 3, 4), np.float32))), ValueError, "bias"),
    ("bias_add", lambda: K.bias_add(c(X), c(np.zeros((), np.float32))), ValueError, "bias"),
    ("bias_add", lambda: K.bias_add(c(X), c(np.zeros(4, np.float32)), data_format="channels_middle"),
     ValueError, "data_format"),
    ("softmax", lambda: K.softmax(c(X), axis="last"), TypeError, "axis"),
    ("categorical_crossentropy", lambda: K.categorical_crossentropy(c(X), c(X), axis=3), ValueError, "axis"),
    ("sparse_categorical_crossentropy",
     lambda: K.sparse_categorical_crossentropy(c(np.zeros((2, 3), np.int32)), c(X), axis=-4),
     ValueError, "axis"),
    ("in_top_k", lambda: K.in_top_k(c(X[0]), c(np.zeros(3, np.int32)), 1.5), TypeError, "k"),
    ("in_top_k", lambda: K.in_top_k(c(X[0]), c(np.zeros(3, np.int32)), -1), ValueError, "k"),
    ("normalize_batch_in_training", lambda: K.normalize_batch_in_training(c(X), None, None, None), TypeError,
     "reduction_axes"),
    ("normalize_batch_in_training", lambda: K.normalize_batch_in_training(c(X), None, None, [0, 5]),
     ValueError, "reduction_axes"),
    ("batch_normalization", lambda: K.batch_normalization(c(X), c(X), c(X), None, None, axis=3),
     ValueError, "axis"),
    ("random_normal", lambda: K.random_normal((2, 2), dtype="int32"), ValueError, "dtype"),
    ("random_normal", lambda: K.random_normal((2, 2), dtype="floaty"), TypeError, "dtype"),
    ("truncated_normal", lambda: K.truncated_normal((2, 2), dtype="bool"), ValueError, "dtype"),
    ("random_uniform", lambda: K.random_uniform((2, -2)), ValueError, "shape"),
    ("random_uniform", lambda: K.random_uniform((2, 2), seed="x"), TypeError, "seed"),
    ("random_bernoulli", lambda: K.random_bernoulli((2, 2.5)), TypeError, "shape"),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("func,call,kind,arg", INVALID,
                         ids=[f"{entry[0]}-{entry[3]}-{i}" for i, entry in enumerate(INVALID)])
def test_invalid_argument(func, call, kind, arg, backend):
    with K.backend_scope(backend), pytest.raises(kind) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{func}:") and f"`{arg}`" in message, message


SEEDED = [
    ("random_normal", lambda seed: K.random_normal((5, 4), seed=seed)),
    ("random_uniform", lambda seed: K.random_uniform((5, 4), seed=seed)),
    ("random_bernoulli", lambda seed: K.random_bernoulli((5, 4), 0.5, seed=seed)),
    ("random_binomial", lambda seed: K.random_binomial((5, 4), 0.5, seed=seed)),
    ("truncated_normal", lambda seed: K.truncated_normal((5, 4), seed=seed)),
    ("dropout", lambda seed: K.dropout(c(np.ones((5, 4), np.float32)), 0.5, seed=seed)),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name,draw", SEEDED, ids=[s[0] for s in SEEDED])
def test_seeded_draws_repeat(name, draw, backend):
    with K.backend_scope(backend):
        first, second = K.eval(draw(7)), K.eval(draw(7))
        other = K.eval(draw(8))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("backend", BACKENDS)
def test_unseeded_draws_follow_numpy_global_rng(backend):
    with K.backend_scope(backend):
        np.random.seed(3)
        first = K.eval(K.random_normal((5, 4)))
        np.random.seed(3)
        second = K.eval(K.random_normal((5, 4)))
        third = K.eval(K.random_normal((5, 4)))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(second, third)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("loss", ["categorical_crossentropy", "binary_crossentropy"])
def test_crossentropy_reads_epsilon_at_call_time(loss, backend):
    target = np.array([[1.0, 0.0]], np.float32)
    output = np.array([[0.0, 1.0]], np.float32)
    with K.backend_scope(backend):
        target, output = K.constant(target), K.constant(output)
        default = np.asarray(K.eval(getattr(K, loss)(target, output)))
        K.set_epsilon(1e-2)
        wide = np.asarray(K.eval(getattr(K, loss)(target, output)))
    assert wide.max() < default.max() / 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_random_dtype_defaults_to_floatx(backend):
    with K.backend_scope(backend):
        K.set_floatx("float64")
        assert K.dtype(K.random_uniform((2, 2))) == "float64"
        assert K.dtype(K.random_binomial((2, 2), 0.5)) == "float64"
