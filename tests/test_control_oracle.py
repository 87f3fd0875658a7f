"""The NumPy reference of rnn, map_fn and the CTC ops against tf_keras (and TensorFlow's CTC kernels),
with callables built for each side from that side's backend ops."""

import importlib.util

import numpy as np
import pytest

import kbackend as K

pytestmark = pytest.mark.skipif(importlib.util.find_spec("tf_keras") is None,
                                reason="tf_keras (the Keras 2 oracle) is not installed")


@pytest.fixture(scope="module")
def KT():
    from oracle import oracle_backend

    return oracle_backend()


@pytest.fixture(scope="module")
def tf():
    import tensorflow

    return tensorflow


@pytest.fixture(autouse=True)
def _numpy_backend():
    with K.backend_scope("numpy"):
        yield


def _rng(seed):
    return np.random.default_rng(seed)


def _numpy(value):
    if isinstance(value, (list, tuple)):
        return [_numpy(v) for v in value]
    return np.asarray(value.numpy() if hasattr(value, "numpy") else K.eval(value))


def _assert_nested_close(actual, expected, rtol=1e-5, atol=1e-5):
    if isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            _assert_nested_close(a, e, rtol, atol)
        return
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


# ---------------------------------------------------------------------------------------------------
# rnn: a simple RNN cell and an LSTM-like cell with two states, written once per backend module


def simple_cell(B, kernel, recurrent):
    def step(x, states):
        h = B.tanh(B.dot(x, B.constant(kernel)) + B.dot(states[0], B.constant(recurrent)))
        return h, [h]

    return step


def two_state_cell(B, kernel, recurrent):
    def step(x, states):
        h, c, bias = states
        c = c * B.sigmoid(B.dot(h, B.constant(recurrent))) + B.tanh(B.dot(x, B.constant(kernel)))
        h = B.tanh(c) + bias
        return h, [h, c]

    return step


RNN_OPTIONS = [
    pytest.param({}, id="plain"),
    pytest.param({"go_backwards": True}, id="backwards"),
    pytest.param({"unroll": True}, id="unroll"),
    pytest.param({"mask": True}, id="mask"),
    pytest.param({"mask": True, "go_backwards": True}, id="mask-backwards"),
    pytest.param({"mask": True, "go_backwards": True, "unroll": True}, id="mask-backwards-unroll"),
]


@pytest.mark.parametrize("options", RNN_OPTIONS)
@pytest.mark.parametrize("cell", [simple_cell, two_state_cell], ids=["simple", "two_states"])
def test_rnn_matches_tf_keras(KT, cell, options):
    rng = _rng(0)
    batch, steps, features, units = 3, 5, 4, 6
    inputs = rng.normal(size=(batch, steps, features)).astype(np.float32)
    kernel = rng.normal(size=(features, units)).astype(np.float32) * 0.5
    recurrent = rng.normal(size=(units, units)).astype(np.float32) * 0.5
    states = [rng.normal(size=(batch, units)).astype(np.float32) for _ in range(2)]
    constants = [rng.normal(size=(batch, units)).astype(np.float32)]
    options = dict(options)
    if options.pop("mask", False):
        options["mask"] = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 0, 0, 0, 1]], bool)
    if cell is simple_cell:
        states, constants = states[:1], []
    options["constants"] = constants

    ours = K.rnn(cell(K, kernel, recurrent), inputs, states, **options)
    tf_options = {k: [KT.constant(c) for c in v] if k == "constants" else v for k, v in options.items()}
    if "mask" in tf_options:
        tf_options["mask"] = KT.constant(tf_options["mask"], dtype="bool")
    theirs = KT.rnn(cell(KT, kernel, recurrent), KT.constant(inputs), [KT.constant(s) for s in states],
                    **tf_options)
    _assert_nested_close(_numpy(list(ours)), _numpy([theirs[0], theirs[1], list(theirs[2])]))


# ---------------------------------------------------------------------------------------------------
# map_fn over indices, as Keras 2's backend test does it


def test_map_fn_over_indices_matches_tf_keras(KT):
    x = _rng(1).random((10, 3)).astype(np.float32)
    ours = K.map_fn(lambda i: K.sum(x[i]), K.arange(10), dtype=K.floatx())
    theirs = KT.map_fn(lambda i: KT.sum(KT.gather(KT.constant(x), i)), KT.arange(10), dtype=KT.floatx())
    _assert_nested_close(_numpy(ours), _numpy(theirs))
    np.testing.assert_allclose(_numpy(ours), x.sum(axis=1), rtol=1e-6)


# ---------------------------------------------------------------------------------------------------
# CTC


def _ctc_batch(rng, batch, steps, classes):
    y_pred = rng.uniform(0.01, 1.0, (batch, steps, classes)).astype(np.float32)
    y_pred /= y_pred.sum(axis=-1, keepdims=True)
    input_length = rng.integers(1, steps + 1, batch)
    label_length = np.array([rng.integers(1, n + 1) for n in input_length])
    labels = rng.integers(0, classes - 1, (batch, int(label_length.max())))
    return labels.astype(np.int32), y_pred, input_length[:, None].astype(np.int32), label_length[:, None]


@pytest.mark.parametrize("seed", range(4))
def test_ctc_label_dense_to_sparse_matches_tf_keras(KT, seed):
    rng = _rng(seed)
    labels = rng.integers(0, 9, (4, 6)).astype(np.int32)
    lengths = rng.integers(0, 7, 4).astype(np.int32)
    ours = K.ctc_label_dense_to_sparse(labels, lengths)
    theirs = KT.ctc_label_dense_to_sparse(KT.constant(labels, dtype="int32"), KT.constant(lengths, dtype="int32"))
    for a, e in zip(ours, (theirs.indices, theirs.values, theirs.dense_shape)):
        e = e.numpy()
        assert a.dtype == e.dtype and a.shape == e.shape
        np.testing.assert_array_equal(a, e)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("seed", range(6))
def test_ctc_batch_cost_matches_tf_keras(KT, seed, dtype):
    labels, y_pred, input_length, label_length = _ctc_batch(_rng(seed), 4, 9, 6)
    y_pred = y_pred.astype(dtype)
    ours = K.ctc_batch_cost(labels, y_pred, input_length, label_length)
    theirs = KT.ctc_batch_cost(KT.constant(labels, dtype="int32"), KT.constant(y_pred, dtype=dtype),
                               KT.constant(input_length, dtype="int32"), KT.constant(label_length, dtype="int32"))
    _assert_nested_close(_numpy(ours), _numpy(theirs))


@pytest.mark.parametrize("seed", range(6))
def test_ctc_greedy_decode_matches_tf_keras(KT, seed):
    rng = _rng(seed)
    y_pred = rng.uniform(0, 1, (3, 7, 5)).astype(np.float32) ** 3  # sharp, with repeats
    input_length = rng.integers(0, 8, 3).astype(np.int32)
    (ours,), our_scores = K.ctc_decode(y_pred, input_length)
    (theirs,), their_scores = KT.ctc_decode(KT.constant(y_pred), KT.constant(input_length, dtype="int32"))
    np.testing.assert_array_equal(ours, theirs.numpy())
    assert ours.dtype == np.int64
    _assert_nested_close(_numpy(our_scores), _numpy(their_scores))


def _tf_beam_search(tf, y_pred, input_length, beam_width, top_paths, merge_repeated):
    """TensorFlow's decoder called as Keras 2.3.1 called it (tf_keras dropped `merge_repeated`)."""
    batch, steps, _ = y_pred.shape
    logits = np.log(np.transpose(y_pred, (1, 0, 2)) + K.epsilon())
    decoded, scores = tf.compat.v1.nn.ctc_beam_search_decoder(
        logits, input_length, beam_width=beam_width, top_paths=top_paths, merge_repeated=merge_repeated)
    dense = [tf.sparse.to_dense(tf.SparseTensor(d.indices, d.values, (batch, steps)), default_value=-1).numpy()
             for d in decoded]
    return dense, scores.numpy()


@pytest.mark.parametrize("merge_repeated", [False, True], ids=["keep_repeated", "merge_repeated"])
@pytest.mark.parametrize("seed", range(8))
def test_ctc_beam_search_matches_tensorflow(tf, seed, merge_repeated):
    rng = _rng(seed)
    steps, classes = int(rng.integers(3, 10)), int(rng.integers(3, 8))
    y_pred = rng.uniform(0, 1, (2, steps, classes)) ** (1 + seed % 4)  # from flat to sharp distributions
    y_pred = y_pred.astype(np.float32)
    input_length = rng.integers(2, steps + 1, 2).astype(np.int32)
    beam_width, top_paths = int(rng.integers(3, 12)), int(rng.integers(1, 4))
    ours, our_scores = K.ctc_decode(y_pred, input_length, greedy=False, beam_width=beam_width,
                                    top_paths=top_paths, merge_repeated=merge_repeated)
    theirs, their_scores = _tf_beam_search(tf, y_pred, input_length, beam_width, top_paths, merge_repeated)
    assert len(ours) == top_paths
    for a, e in zip(ours, theirs):
        np.testing.assert_array_equal(a, e)
    np.testing.assert_allclose(our_scores, their_scores, rtol=1e-5, atol=1e-5)


def test_ctc_beam_search_default_matches_tf_keras_without_repeats(KT):
    """tf_keras.ctc_decode merges repeats (TF 1's default); paths without repeats agree with ours."""
    y_pred = np.array([[[0.6, 0.1, 0.1, 0.2], [0.1, 0.6, 0.1, 0.2], [0.1, 0.1, 0.6, 0.2]]], np.float32)
    ours, our_scores = K.ctc_decode(y_pred, np.array([3]), greedy=False, beam_width=4, top_paths=2)
    theirs, their_scores = KT.ctc_decode(KT.constant(y_pred), KT.constant([3], dtype="int32"), greedy=False,
                                         beam_width=4, top_paths=2)
    for a, e in zip(ours, theirs):
        np.testing.assert_array_equal(a, e.numpy())
    np.testing.assert_allclose(our_scores, their_scores.numpy(), rtol=1e-5)
