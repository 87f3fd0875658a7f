"""Same answer or same named error on every engine: the cases an external bad-input probe found.

Each test runs on every installed engine and checks the answer against the NumPy reference, a Keras 2
fact (tf-keras on TensorFlow) or the shared error contract: a ``ValueError``/``TypeError`` (or
``MemoryError`` for a request that cannot be met) whose message starts with the op's name.
"""

import re

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS


def named(op, kind=ValueError):
    """``pytest.raises`` for an error of ``kind`` whose message starts with ``op: ``."""
    return pytest.raises(kind, match="^" + re.escape(op + ": "))


def value(x):
    return np.asarray(K.eval(x))


# ---------------------------------------------------------------------------------------------------
# silent wrong answers

INTS = np.array([0, 1, 2, -3], np.int32)
ACTIVATIONS = ["sigmoid", "tanh", "softplus", "elu", "softmax", "hard_sigmoid", "softsign"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("floatx", ["float32", "float64"])
def test_activation_of_ints_is_floatx(name, floatx, backend):
    """Keras 2 declares activations on floats (TensorFlow refuses int32): ints are cast to floatx first,
    so every engine gives the float answer, never NumPy's truncated zeros."""
    K.set_floatx(floatx)
    with K.backend_scope("numpy"):
        expected = getattr(K, name)(INTS.astype(floatx))
    with K.backend_scope(backend):
        got = value(getattr(K, name)(INTS))
    assert got.dtype == np.dtype(floatx)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)
    assert got[1] != 0  # sigmoid(1), tanh(1)... were 0 on NumPy


@pytest.mark.parametrize("backend", BACKENDS)
def test_activation_of_python_numbers_is_floatx(backend):
    with K.backend_scope(backend):
        got = value(K.tanh(2.5))
        listed = value(K.sigmoid([0, 1]))
    assert got.dtype == np.float32 and np.isclose(got, np.tanh(2.5))
    assert listed.dtype == np.float32 and np.allclose(listed, [0.5, 1 / (1 + np.exp(-1))])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_crossentropy_refuses_out_of_range_labels(from_logits, backend):
    """An id outside [0, classes) was a silent loss of 0 on every engine; TensorFlow refuses it."""
    output = np.full((2, 5), 0.2, np.float32)
    with K.backend_scope(backend):
        with pytest.raises(ValueError, match=re.escape(
                "sparse_categorical_crossentropy: argument `target` got class ids [-1, 7]; expected ids in [0, 5)")):
            K.sparse_categorical_crossentropy(np.array([-1, 7]), output, from_logits=from_logits)
        good = value(K.sparse_categorical_crossentropy(np.array([0, 4]), output, from_logits=from_logits))
    expected = np.log(5.0) if not from_logits else -np.log(np.exp(0.2) / (5 * np.exp(0.2)))
    np.testing.assert_allclose(good, [expected, expected], rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sparse_crossentropy_labels_fed_to_a_function(backend):
    """Labels known only when a function runs are not read at build time: there an id outside
    [0, classes) gives a loss of 0 on every engine (torch's ignore_index, a gathered log-softmax elsewhere)."""
    with K.backend_scope(backend):
        labels = K.placeholder((None,), dtype="int32")
        logits = K.placeholder((None, 3))
        f = K.function([labels, logits], [K.sparse_categorical_crossentropy(labels, logits, from_logits=True)])
        ids, z = np.array([0, 5, -1, 2], np.int32), np.zeros((4, 3), np.float32)
        np.testing.assert_allclose(f([ids, z])[0], [np.log(3), 0, 0, np.log(3)], rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fold", ["foldl", "foldr"])
def test_fold_over_a_python_list_folds_its_first_axis(fold, backend):
    """Keras 2 converts ``elems`` to a tensor: a list of rows is folded row by row (never concatenated by
    Python's ``+``), a list of ints stays int32."""
    with K.backend_scope(backend):
        rows = value(getattr(K, fold)(lambda acc, x: acc + x, [[1.0, 2.0], [3.0, 4.0]]))
        ints = value(getattr(K, fold)(lambda acc, x: acc + x, [1, 2, 3, 4]))
        mapped = value(K.map_fn(lambda x: x * 2, [1.0, 2.0]))
    np.testing.assert_array_equal(rows, [4.0, 6.0])
    assert rows.dtype == np.float32
    assert ints == 10 and ints.dtype == np.int32
    np.testing.assert_array_equal(mapped, [2.0, 4.0])


REDUCTIONS = ["sum", "prod", "mean", "max", "min", "var", "std", "any", "all", "logsumexp"]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce_over_no_axis_returns_the_input(name, keepdims, backend):
    """``axis=[]`` reduces over no axis: TensorFlow (Keras 2) and NumPy return the input (var/std: 0);
    torch read ``dim=()`` as every axis."""
    x = np.array([[-2.0, 0.0, 1.0], [2.0, 3.0, 4.0]], np.float32)
    with K.backend_scope("numpy"):
        expected = np.asarray(getattr(K, name)(x, axis=[], keepdims=keepdims))
    assert expected.shape == x.shape
    with K.backend_scope(backend):
        got = value(getattr(K, name)(x, axis=[], keepdims=keepdims))
    assert got.shape == x.shape and got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_reduce_over_no_axis_is_keras2():
    oracle = pytest.importorskip("tf_keras.backend")
    x = np.array([[1.0, 2.0], [3.0, 4.0]], np.float32)
    np.testing.assert_array_equal(oracle.sum(x, axis=[]).numpy(), K.sum(x, axis=[]))
    np.testing.assert_array_equal(oracle.max(x, axis=[]).numpy(), K.max(x, axis=[]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_axis_as_numpy_int_array(backend):
    """Keras 2 code writes ``axis=np.arange(1, ndim)`` (the WGAN-GP penalty)."""
    g = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    with K.backend_scope(backend):
        got = value(K.sum(K.square(g), axis=np.arange(1, 3)))
        one = value(K.softmax(g, axis=np.int64(1)))
    np.testing.assert_allclose(got, (g ** 2).sum(axis=(1, 2)), rtol=1e-6)
    with K.backend_scope("numpy"):
        np.testing.assert_allclose(one, K.softmax(g, axis=1), rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sign_of_nan_is_nan(backend):
    with K.backend_scope(backend):
        got = value(K.sign(np.array([np.nan, 2.0, -3.0, 0.0], np.float32)))
    np.testing.assert_array_equal(got, [np.nan, 1.0, -1.0, 0.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_gather_refuses_bool_and_float_indices(backend):
    x = np.ones((3, 2), np.float32)
    with K.backend_scope(backend):
        for bad in (True, 1.0, np.array([0.0, 1.0])):
            with pytest.raises(TypeError, match=r"^gather: argument `indices` got .*expected int indices"):
                K.gather(x, bad)
        np.testing.assert_array_equal(value(K.gather(np.arange(3), 2)), 2)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("args", [(0, 5, float("inf")), (0, float("nan")), (0, 5, 0), (10**30,)],
                         ids=["step-inf", "stop-nan", "step-0", "huge"])
def test_arange_refuses_what_gives_no_range(args, backend):
    with K.backend_scope(backend):
        with pytest.raises(ValueError, match=r"^arange: argument `(start|stop|step)` got .*expected"):
            K.arange(*args)


# ---------------------------------------------------------------------------------------------------
# shapes of new tensors, and requests that cannot be met

CREATORS = {
    "zeros": lambda s: K.zeros(s),
    "ones": lambda s: K.ones(s),
    "constant": lambda s: K.constant(1.0, shape=s),
    "random_normal": lambda s: K.random_normal(s),
    "random_uniform": lambda s: K.random_uniform(s),
    "random_binomial": lambda s: K.random_binomial(s, 0.5),
    "truncated_normal": lambda s: K.truncated_normal(s),
    "random_uniform_variable": lambda s: K.random_uniform_variable(s, 0.0, 1.0),
    "random_normal_variable": lambda s: K.random_normal_variable(s, 0.0, 1.0),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("creator", sorted(CREATORS))
@pytest.mark.parametrize("shape,kind", [("3", TypeError), ((2.5,), TypeError), ((True, 2), TypeError),
                                        (None, TypeError), ((2, -1), ValueError)],
                         ids=["str", "float", "bool", "none", "negative"])
def test_new_shapes_are_checked(creator, shape, kind, backend):
    if creator == "constant" and shape is None:  # None is constant's default: the value keeps its shape
        with K.backend_scope(backend):
            assert K.int_shape(K.constant([1.0, 2.0], shape=None)) == (2,)
        return
    with K.backend_scope(backend):
        with pytest.raises(kind, match=f"^{creator}: argument `shape` got .*expected"):
            CREATORS[creator](shape)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("creator", sorted(CREATORS))
def test_a_shape_beyond_memory_raises_before_allocating(creator, backend):
    """JAX aborted the process on these; now every engine raises MemoryError before allocating."""
    with K.backend_scope(backend):
        for shape in ((2**31, 2**31), (10**6, 10**6), [10**12]):
            with pytest.raises(MemoryError, match=f"^{creator}: argument `shape` got .*fits in memory"):
                K.eval(CREATORS[creator](shape))


@pytest.mark.parametrize("backend", BACKENDS)
def test_eye_and_one_hot_beyond_memory(backend):
    with K.backend_scope(backend):
        with named("eye", MemoryError):
            K.eye(10**12)
        with named("eye", MemoryError):
            K.eye((10**6, 10**7))
        with named("one_hot"):
            K.one_hot(np.array([0, 1]), 10**12)
        np.testing.assert_array_equal(value(K.eye((2, 3))), np.eye(2, 3))


@pytest.mark.parametrize("backend", BACKENDS)
def test_new_shapes_from_tensors(backend):
    """Keras 2 builds shapes from ``K.shape(x)``: a 1-D int tensor or scalar int tensors as entries."""
    x = np.zeros((2, 3), np.float32)
    with K.backend_scope(backend):
        assert K.int_shape(K.random_normal(K.shape(x), seed=1)) == (2, 3)
        assert K.int_shape(K.zeros((K.shape(x)[0], 4))) == (2, 4)
        assert K.int_shape(K.random_uniform(np.array([3, 1]), seed=1)) == (3, 1)


# ---------------------------------------------------------------------------------------------------
# what an engine raises from inside reaches the caller named


ENGINE_ERRORS = [
    ("equal", lambda: K.equal(np.ones((2, 3)), np.ones((2, 4))), ValueError),
    ("softmax", lambda: K.softmax(np.ones((2, 3), np.float32), axis=10**9), ValueError),
    ("concatenate", lambda: K.concatenate([]), ValueError),
    ("stack", lambda: K.stack([]), ValueError),
    ("reshape", lambda: K.reshape(np.ones((2, 3), np.float32), (0, -1)), ValueError),
    ("tile", lambda: K.tile(np.ones((2, 3), np.float32), -1), ValueError),
    ("dot", lambda: K.dot(np.ones((2, 3), np.float32), np.ones((4, 5), np.float32)), ValueError),
    ("conv2d", lambda: K.conv2d(np.ones((1, 4, 4, 3), np.float32), np.ones((2, 2, 5, 1), np.float32)),
     ValueError),
]


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op,call,kind", ENGINE_ERRORS, ids=[row[0] for row in ENGINE_ERRORS])
def test_engine_errors_are_named(op, call, kind, backend):
    with K.backend_scope(backend):
        try:
            K.eval(call())
        except (ValueError, TypeError) as exc:
            assert str(exc).startswith(op + ": "), f"{type(exc).__name__}: {exc}"
        else:
            pytest.fail(f"{op} raised nothing")


@pytest.mark.parametrize("backend", BACKENDS)
def test_callbacks_raise_what_they_raise(backend):
    """The caller's own functions are not rewrapped: their exceptions reach the caller untouched."""

    def boom(*args):
        raise KeyError("mine")

    with K.backend_scope(backend):
        with pytest.raises(KeyError, match="mine"):
            K.map_fn(boom, np.ones((2, 2), np.float32))
        with pytest.raises(KeyError, match="mine"):
            K.foldl(boom, np.ones((2, 2), np.float32))
        with pytest.raises(KeyError, match="mine"):
            K.rnn(boom, np.ones((2, 3, 4), np.float32), [np.zeros((2, 4), np.float32)])


def test_named_error_rules():
    from kbackend._dispatch import named_error

    assert isinstance(named_error("sum", RuntimeError("bad")), ValueError)
    assert str(named_error("sum", IndexError("out"))) == "sum: out"
    assert isinstance(named_error("sum", AttributeError("no")), TypeError)
    assert isinstance(named_error("sum", MemoryError()), MemoryError)
    assert str(named_error("zeros", KeyError("string"))) == "zeros: unknown key 'string'"
    already = ValueError("sum: argument `axis` got 3; expected ...")
    assert named_error("sum", already) is already
    other = TypeError("clip: argument `x` got ...")
    assert str(named_error("hard_sigmoid", other)) == "hard_sigmoid: clip: argument `x` got ..."
    assert str(named_error("sum", RuntimeError("sum: bad"))) == "sum: bad"  # never named twice
    missing = ImportError("pip install 'kbackend[torch]'")
    assert named_error("sum", missing) is missing


# ---------------------------------------------------------------------------------------------------
# one dtype policy (kbackend.dtypes.POLICY)


def test_promote_rule():
    from kbackend.dtypes import promote

    assert promote("float32", "int32") == promote("int32", "float32") == "float32"
    assert promote("float16", "int64") == "float16" and promote("bool", "float64") == "float64"
    assert promote("float32", "float64") == "float64" and promote("int32", "int64") == "int64"
    assert promote("int8", "uint8") == "int16"


MIXED = {
    "dot": lambda i, f: K.dot(i, f),
    "dot-reversed": lambda i, f: K.dot(f, i),
    "batch_dot": lambda i, f: K.batch_dot(i, f, axes=1),
    "maximum": lambda i, f: K.maximum(i, f),
    "minimum": lambda i, f: K.minimum(f, i),
    "pow": lambda i, f: K.pow(f, i),
    "concatenate": lambda i, f: K.concatenate([i, f]),
    "batch_normalization": lambda i, f: K.batch_normalization(f, i, f, f, f),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(MIXED))
def test_int_meets_float_gives_the_float(name, backend):
    """``K.dot(int32, float32)`` was float64 on NumPy, torch and TensorFlow, float32 on JAX."""
    i = np.array([[1, 2], [3, 4]], np.int32)
    f = np.array([[0.5, 1.0], [1.5, 2.0]], np.float32)
    with K.backend_scope("numpy"):
        expected = np.asarray(MIXED[name](i.astype(np.float32), f))
    with K.backend_scope(backend):
        got = value(MIXED[name](K.constant(i, dtype="int32"), K.constant(f)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_python_values_take_keras2_types(backend):
    with K.backend_scope(backend):
        assert K.dtype(K.reshape([[1.0, 2.0], [3.0, 4.0]], (4,))) == "float32"
        assert K.dtype(K.reshape([[1, 2], [3, 4]], (4,))) == "int32"
        assert K.dtype(K.zeros_like([1.0, 2.0])) == "float32"
        assert K.dtype(K.stop_gradient([1.0, 2.0])) == "float32"
        assert K.dtype(K.constant(0.2, dtype="float64")) == "float64"
        assert float(value(K.constant(0.2, dtype="float64"))) == 0.2  # not rounded through float32


@pytest.mark.parametrize("backend", BACKENDS)
def test_bias_add_casts_the_bias_first(backend):
    """bias_add keeps x's dtype: the bias is cast first (TensorFlow's BiasAdd), on every engine."""
    x = np.arange(-3, 3, dtype=np.int32).reshape(2, 3)
    with K.backend_scope(backend):
        got = value(K.bias_add(K.constant(x, dtype="int32"), K.constant(np.full(3, 0.7, np.float32))))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, x)


# ---------------------------------------------------------------------------------------------------
# found by the fuzz suite


@pytest.mark.parametrize("backend", BACKENDS)
def test_sizes_beyond_memory_in_other_ops(backend):
    """JAX aborted the process on these too."""
    x = np.ones((2, 3), np.float32)
    with K.backend_scope(backend):
        with named("tile", MemoryError):
            K.tile(x, (2**31, 2**31))
        with named("dropout", MemoryError):
            K.dropout(x, 0.5, noise_shape=(2**31, 2**31))
        with named("repeat_elements", MemoryError):
            K.repeat_elements(x, 10**12, 0)
        with named("arange", MemoryError):
            K.arange(10**18)
        with named("temporal_padding", MemoryError):
            K.temporal_padding(np.ones((1, 2, 3), np.float32), (10**12, 0))


@pytest.mark.parametrize("backend", BACKENDS)
def test_convolution_of_an_empty_batch(backend):
    """TensorFlow's CPU kernels returned their input unchanged for an empty batch."""
    with K.backend_scope(backend):
        assert K.int_shape(K.conv2d(K.constant(np.zeros((0, 7, 8, 3), np.float32)),
                                    K.constant(np.ones((3, 2, 3, 4), np.float32)))) == (0, 5, 7, 4)
        assert K.int_shape(K.conv1d(K.constant(np.zeros((0, 9, 3), np.float32)),
                                    K.constant(np.ones((3, 3, 4), np.float32)))) == (0, 7, 4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_required_callbacks_must_be_callable(backend):
    with K.backend_scope(backend):
        for op, call in (("map_fn", lambda: K.map_fn(None, np.ones((2, 2)))),
                         ("foldl", lambda: K.foldl("f", np.ones((2, 2)))),
                         ("rnn", lambda: K.rnn(3, np.ones((2, 3, 4), np.float32), [np.zeros((2, 4), np.float32)]))):
            with pytest.raises(TypeError, match=f"^{op}: argument `(fn|step_function)` got .*expected a callable"):
                call()
