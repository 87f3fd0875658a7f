"""Keras 2 code as people wrote it — custom losses, metrics, attention, RNN steps, conv blocks — run on
every engine, eagerly and through placeholders and ``K.function``, against the NumPy reference."""

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

rng = np.random.default_rng(0)


def _bits(shape):
    return rng.integers(0, 2, shape).astype("float32")


def _unit(shape):
    return rng.uniform(0, 1, shape).astype("float32")


def _normal(shape):
    return rng.standard_normal(shape).astype("float32")


def _normal_shaped(*shape):
    return _normal(shape)


def focal_loss(y_true, y_pred, gamma=2.0, alpha=0.25):
    eps = K.epsilon()
    y_pred = K.clip(y_pred, eps, 1. - eps)
    pt_1 = K.switch(K.equal(y_true, 1), y_pred, K.ones_like(y_pred))
    pt_0 = K.switch(K.equal(y_true, 0), y_pred, K.zeros_like(y_pred))
    positive = -K.sum(alpha * K.pow(1. - pt_1, gamma) * K.log(pt_1))
    return positive - K.sum((1 - alpha) * K.pow(pt_0, gamma) * K.log(1. - pt_0))

def dice_coef(y_true, y_pred, smooth=1):
    y_true_f = K.flatten(y_true)
    y_pred_f = K.flatten(y_pred)
    intersection = K.sum(y_true_f * y_pred_f)
    return (2. * intersection + smooth) / (K.sum(y_true_f) + K.sum(y_pred_f) + smooth)

def recall_m(y_true, y_pred):
    true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
    possible_positives = K.sum(K.round(K.clip(y_true, 0, 1)))
    return true_positives / (possible_positives + K.epsilon())

def attention(q, k, v):
    scores = K.batch_dot(q, k, axes=[2, 2]) / np.sqrt(4.0)
    weights = K.softmax(scores)
    return K.batch_dot(weights, v, axes=[2, 1])

def triplet(a, p, n, margin=0.2):
    pos = K.sum(K.square(a - p), axis=-1)
    neg = K.sum(K.square(a - n), axis=-1)
    return K.mean(K.maximum(pos - neg + margin, 0.0))

def rnn_sum(x):
    def step(inputs, states):
        out = inputs + states[0]
        return out, [out]
    last, outputs, states = K.rnn(step, x, [K.zeros_like(x[:, 0, :])])
    return outputs

def rnn_sum2(x):
    init = K.sum(K.zeros_like(x), axis=1)
    def step(inputs, states):
        out = K.tanh(inputs + states[0])
        return out, [out]
    last, outputs, states = K.rnn(step, x, [init])
    return last

def gram(x):
    f = K.batch_flatten(K.permute_dimensions(x, (0, 3, 1, 2)))
    return K.dot(f, K.transpose(f))

def wasserstein(y_true, y_pred):
    return K.mean(y_true * y_pred)

def contrastive(y_true, d, margin=1):
    return K.mean(y_true * K.square(d) + (1 - y_true) * K.square(K.maximum(margin - d, 0)))

def huber(y_true, y_pred, delta=1.0):
    err = y_true - y_pred
    cond = K.abs(err) < delta
    return K.mean(K.switch(cond, 0.5 * K.square(err), delta * (K.abs(err) - 0.5 * delta)))

def kl(p, q):
    p = K.clip(p, K.epsilon(), 1); q = K.clip(q, K.epsilon(), 1)
    return K.sum(p * K.log(p / q), axis=-1)

def cos_prox(y_true, y_pred):
    return -K.sum(K.l2_normalize(y_true, axis=-1) * K.l2_normalize(y_pred, axis=-1), axis=-1)

def conv_block(x):
    w = np.linspace(-1, 1, 3 * 3 * 3 * 4).reshape(3, 3, 3, 4).astype("float32")
    y = K.conv2d(x, K.constant(w), padding="same")
    y = K.bias_add(y, K.constant(np.arange(4, dtype="float32")))
    y = K.relu(y)
    y = K.pool2d(y, (2, 2), strides=(2, 2), pool_mode="max")
    return K.batch_flatten(y)

def bn(x):
    mean, var = K.mean(x, axis=0), K.var(x, axis=0)
    return K.batch_normalization(x, mean, var, K.zeros((4,)), K.ones((4,)), epsilon=1e-3)

def topk(p, t):
    return K.cast(K.in_top_k(p, t, 2), "float32")

def cat_acc(y_true, y_pred):
    return K.cast(K.equal(K.argmax(y_true, axis=-1), K.argmax(y_pred, axis=-1)), K.floatx())

def sparse_cat(y_true, y_pred):
    return K.sparse_categorical_crossentropy(y_true, y_pred)

def onehot_gather(ids, table):
    return K.sum(K.gather(table, ids), axis=-1) + K.sum(K.one_hot(ids, 5), axis=-1)

def repeat_concat(x):
    return K.concatenate([K.repeat(x, 3), K.repeat(x * 2, 3)], axis=-1)

def masking(x):
    mask = K.cast(K.not_equal(x, 0), "float32")
    return K.sum(x * mask, axis=1) / (K.sum(mask, axis=1) + K.epsilon())

def std_scaled(x):
    return (x - K.mean(x, axis=-1, keepdims=True)) / (K.std(x, axis=-1, keepdims=True) + K.epsilon())

def upsample(x):
    return K.resize_images(x, 2, 2, "channels_last")

def pad_and_slice(x):
    y = K.spatial_2d_padding(x, ((1, 1), (2, 2)))
    return y[:, 1:-1, :, :]

def stack_unstack(x):
    return K.stack([x[:, 0], x[:, 1]], axis=1) * K.expand_dims(K.sum(x, axis=1), 1)

def logsumexp_softplus(x):
    return K.logsumexp(x, axis=1) + K.sum(K.softplus(x), axis=1)

def tile_reverse(x):
    return K.reverse(K.tile(x, (1, 2)), axes=1)

def hard(x):
    return K.hard_sigmoid(x) * K.softsign(x) + K.elu(x)

def cumul(x):
    return K.cumsum(x, axis=1) + K.cumprod(K.sigmoid(x), axis=1)

def map_sq(x):
    return K.map_fn(lambda r: K.sum(r * r), x)

def fold(x):
    return K.foldl(lambda acc, r: acc + r, x, initializer=K.zeros_like(x[0]))

CASES = {
    "focal": (focal_loss, [_bits((4, 3)), _unit((4, 3))]),
    "dice": (dice_coef, [_bits((2, 4, 4)), _unit((2, 4, 4))]),
    "recall": (recall_m, [rng.integers(0, 2, (5, 3)).astype("float32"), rng.uniform(0, 1, (5, 3)).astype("float32")]),
    "attention": (attention, [rng.standard_normal((2, 3, 4)).astype("float32")] * 3),
    "triplet": (triplet, [rng.standard_normal((5, 8)).astype("float32") for _ in range(3)]),
    "rnn_sum": (rnn_sum, [rng.standard_normal((2, 5, 3)).astype("float32")]),
    "rnn_sum2": (rnn_sum2, [rng.standard_normal((2, 5, 3)).astype("float32")]),
    "gram": (gram, [rng.standard_normal((2, 4, 4, 3)).astype("float32")]),
    "wasserstein": (wasserstein, [rng.standard_normal((4, 1)).astype("float32")] * 2),
    "contrastive": (contrastive, [_bits((6,)), 2 * _unit((6,))]),
    "huber": (huber, [_normal((4, 3)) * 2, _normal((4, 3))]),
    "kl": (kl, [rng.dirichlet(np.ones(4), 3).astype("float32"), rng.dirichlet(np.ones(4), 3).astype("float32")]),
    "cos": (cos_prox, [rng.standard_normal((3, 4)).astype("float32")] * 2),
    "conv_block": (conv_block, [rng.standard_normal((2, 6, 6, 3)).astype("float32")]),
    "bn": (bn, [rng.standard_normal((8, 4)).astype("float32")]),
    "topk": (topk, [rng.standard_normal((5, 4)).astype("float32"), np.array([0, 1, 2, 3, 0], "int32")]),
    "cat_acc": (cat_acc, [np.eye(4, dtype="float32")[[0, 1, 2]], rng.standard_normal((3, 4)).astype("float32")]),
    "sparse_cat": (sparse_cat, [np.array([0, 2, 1], "int32"), rng.dirichlet(np.ones(3), 3).astype("float32")]),
    "gather": (onehot_gather, [np.array([[0, 4], [2, 2]], "int32"), rng.standard_normal((5, 3)).astype("float32")]),
    "repeat_concat": (repeat_concat, [rng.standard_normal((2, 3)).astype("float32")]),
    "masking": (masking, [np.array([[1., 0., 2.], [0., 0., 3.]], "float32")]),
    "std_scaled": (std_scaled, [rng.standard_normal((3, 5)).astype("float32")]),
    "upsample": (upsample, [rng.standard_normal((1, 2, 2, 3)).astype("float32")]),
    "pad_slice": (pad_and_slice, [rng.standard_normal((1, 2, 2, 3)).astype("float32")]),
    "stack": (stack_unstack, [rng.standard_normal((2, 2, 3)).astype("float32")]),
    "lse": (logsumexp_softplus, [rng.standard_normal((2, 4)).astype("float32")]),
    "tile_rev": (tile_reverse, [rng.standard_normal((2, 3)).astype("float32")]),
    "hard": (hard, [rng.standard_normal((2, 3)).astype("float32")]),
    "cumul": (cumul, [rng.standard_normal((2, 3)).astype("float32")]),
    "map_fn": (map_sq, [rng.standard_normal((3, 4)).astype("float32")]),
    "foldl": (fold, [rng.standard_normal((3, 4)).astype("float32")]),
}



def dyn_reshape(x):
    return K.reshape(x, (K.shape(x)[0], -1))
def dyn_tile(x):
    return K.tile(K.expand_dims(K.sum(x, axis=1), 1), [1, K.shape(x)[1]])
def dyn_zeros(x):
    return x + K.zeros_like(x) + K.ones_like(x)
def chfirst(x):
    w = np.linspace(-1, 1, 3 * 3 * 2 * 4).reshape(3, 3, 2, 4).astype("float32")
    return K.conv2d(x, K.constant(w), padding="valid", data_format="channels_first")
def conv1d_causal(x):
    w = np.linspace(-1, 1, 2 * 3 * 4).reshape(2, 3, 4).astype("float32")
    return K.conv1d(x, K.constant(w), padding="causal", dilation_rate=2)
def sep(x):
    dw = np.linspace(-1, 1, 3 * 3 * 3 * 1).reshape(3, 3, 3, 1).astype("float32")
    pw = np.linspace(-1, 1, 1 * 1 * 3 * 5).reshape(1, 1, 3, 5).astype("float32")
    return K.separable_conv2d(x, K.constant(dw), K.constant(pw), padding="same")
def deconv(x):
    w = np.linspace(-1, 1, 3 * 3 * 4 * 3).reshape(3, 3, 4, 3).astype("float32")
    return K.conv2d_transpose(x, K.constant(w), (K.shape(x)[0], 8, 8, 4), strides=(2, 2), padding="same")
def switch_rank(x):
    cond = K.greater(K.sum(x, axis=-1, keepdims=True), 0)
    return K.switch(cond, x, -x)
def rep_el(x):
    return K.repeat_elements(x, 2, axis=1)
def avgpool(x):
    return K.pool2d(x, (2, 2), strides=(1, 1), padding="same", pool_mode="avg")
def norm_train(x):
    normed, mean, var = K.normalize_batch_in_training(x, K.ones((3,)), K.zeros((3,)), [0])
    return normed + K.sum(mean) + K.sum(var)
def gather_var(ids):
    table = K.constant(np.arange(15, dtype="float32").reshape(5, 3))
    return K.gather(table, ids)
def ctc(y_true, y_pred):
    n = K.shape(y_pred)[0]
    il = K.ones((n, 1), dtype="int32") * 5
    ll = K.ones((n, 1), dtype="int32") * 2
    return K.ctc_batch_cost(y_true, y_pred, il, ll)
def slicing(x):
    return x[:, ::2, 1:] * 2 + x[:, -1:, :1]
def squeeze_stack(x):
    return K.squeeze(K.expand_dims(x, -1), -1) + K.stack([x[:, 0]] * 3, axis=1)
def argmax_onehot(x):
    return K.one_hot(K.argmax(x, axis=-1), 4) * x
def local_pair(x):
    positive = K.cast(K.any(K.greater(x, 0), axis=1), "float32")
    return K.concatenate([K.max(x, axis=1), K.min(x, axis=1), K.prod(x, axis=1), positive], axis=-1)


CASES.update({  # shapes read from tensors, other layouts and layers

    "dyn_reshape": (dyn_reshape, [rng.standard_normal((3, 2, 4)).astype("float32")]),
    "dyn_tile": (dyn_tile, [rng.standard_normal((3, 4)).astype("float32")]),
    "dyn_zeros": (dyn_zeros, [rng.standard_normal((3, 4)).astype("float32")]),
    "chfirst": (chfirst, [rng.standard_normal((2, 2, 5, 5)).astype("float32")]),
    "conv1d_causal": (conv1d_causal, [rng.standard_normal((2, 6, 3)).astype("float32")]),
    "sep": (sep, [rng.standard_normal((2, 5, 5, 3)).astype("float32")]),
    "deconv": (deconv, [rng.standard_normal((2, 4, 4, 3)).astype("float32")]),
    "switch_rank": (switch_rank, [rng.standard_normal((4, 3)).astype("float32")]),
    "rep_el": (rep_el, [rng.standard_normal((2, 3)).astype("float32")]),
    "avgpool": (avgpool, [rng.standard_normal((2, 4, 4, 3)).astype("float32")]),
    "norm_train": (norm_train, [rng.standard_normal((6, 3)).astype("float32")]),
    "gather_var": (gather_var, [np.array([[0, 4], [2, 2]], "int32")]),
    "ctc": (ctc, [np.array([[1, 2], [2, 1]], "float32"), rng.dirichlet(np.ones(4), (2, 5)).astype("float32")]),
    "slicing": (slicing, [rng.standard_normal((2, 5, 3)).astype("float32")]),
    "squeeze_stack": (squeeze_stack, [rng.standard_normal((2, 3)).astype("float32")]),
    "argmax_onehot": (argmax_onehot, [rng.standard_normal((3, 4)).astype("float32")]),
    "local_pair": (local_pair, [rng.standard_normal((3, 4)).astype("float32")]),
})


def train_dropout(x):
    return K.in_train_phase(K.dropout(x, 0.5, seed=1) * 0 + x * 2, x)
def batchdot2(a, b):
    return K.batch_dot(a, b, axes=1)
def cosine_matrix(a, b):
    return K.dot(K.l2_normalize(a, axis=-1), K.transpose(K.l2_normalize(b, axis=-1)))
def cce_softmax(y, z):
    return K.categorical_crossentropy(y, K.softmax(z))
def bce_sigmoid(y, z):
    return K.binary_crossentropy(y, K.sigmoid(z))
def scce_logits(y, z):
    return K.sparse_categorical_crossentropy(y, z, from_logits=True)
def sparse_acc(y, p):
    return K.cast(K.equal(K.flatten(y), K.cast(K.argmax(p, axis=-1), K.floatx())), K.floatx())
def clip_none(x):
    return K.clip(x, 0.0, None) + K.clip(x, None, 0.5)
def softmax3d(x):
    return K.softmax(x, axis=1)
def attention_w(x):
    w = K.constant(np.linspace(-1, 1, 4).reshape(4, 1).astype("float32"))
    scores = K.squeeze(K.dot(x, w), -1)
    a = K.softmax(scores)
    return K.sum(x * K.expand_dims(a, -1), axis=1)
def bidir(x):
    return K.concatenate([K.cumsum(x, axis=1), K.reverse(K.cumsum(K.reverse(x, axes=1), axis=1), axes=1)], axis=-1)
def square_int(x):
    return K.cast(K.square(K.cast(x, "int32")), "float32") + K.pow(x, 2)
def moments(x):
    return K.concatenate([K.var(x, axis=0, keepdims=True), K.std(x, axis=0, keepdims=True)], axis=0)
def sign_round(x):
    return K.sign(x) * K.round(x * 3) + K.abs(x) + K.sqrt(K.abs(x)) + K.exp(-K.square(x)) + K.log(1 + K.abs(x))
def trig(x):
    return K.sin(x) * K.cos(x) + K.tanh(x) + K.relu(x, alpha=0.1, max_value=1.0)
def minmax(a, b):
    flags = K.cast(K.less_equal(a, b), "float32") + K.cast(K.not_equal(a, b), "float32")
    return K.maximum(a, b) - K.minimum(a, b) + flags
def argmin_hot(x):
    return K.one_hot(K.argmin(x, axis=-1), 3)
def resize_nn(x):
    return K.resize_images(x, 2, 3, "channels_last", interpolation="nearest")
def pool_ch_first(x):
    return K.pool2d(x, (2, 2), strides=(2, 2), data_format="channels_first", pool_mode="avg")
def flatten_dense(x):
    w = K.constant(np.linspace(-1, 1, 12 * 2).reshape(12, 2).astype("float32"))
    return K.softmax(K.dot(K.batch_flatten(x), w))
def temporal_pad(x):
    return K.temporal_padding(x, (1, 2))


CASES.update({  # losses on probabilities, metrics, elementwise math, layouts

    "train_dropout": (train_dropout, [_normal_shaped(3, 4)]),
    "batchdot2": (batchdot2, [_normal_shaped(3, 4), _normal_shaped(3, 4)]),
    "cosine_matrix": (cosine_matrix, [_normal_shaped(3, 4), _normal_shaped(3, 4)]),
    "cce_softmax": (cce_softmax, [np.eye(4, dtype="float32")[[0, 1, 3]], _normal_shaped(3, 4)]),
    "bce_sigmoid": (bce_sigmoid, [rng.integers(0, 2, (3, 4)).astype("float32"), _normal_shaped(3, 4)]),
    "scce_logits": (scce_logits, [np.array([[0], [2], [1]], "int32"), _normal_shaped(3, 3)]),
    "sparse_acc": (sparse_acc, [np.array([[0], [2], [1]], "float32"), _normal_shaped(3, 3)]),
    "clip_none": (clip_none, [_normal_shaped(3, 4)]),
    "softmax3d": (softmax3d, [_normal_shaped(2, 3, 4)]),
    "attention_w": (attention_w, [_normal_shaped(2, 5, 4)]),
    "bidir": (bidir, [_normal_shaped(2, 4, 3)]),
    "square_int": (square_int, [np.array([[1., 2.], [-3., 4.]], "float32")]),
    "moments": (moments, [_normal_shaped(5, 3)]),
    "sign_round": (sign_round, [_normal_shaped(3, 4)]),
    "trig": (trig, [_normal_shaped(3, 4) * 2]),
    "minmax": (minmax, [_normal_shaped(3, 4), _normal_shaped(3, 4)]),
    "argmin_hot": (argmin_hot, [_normal_shaped(4, 3)]),
    "resize_nn": (resize_nn, [_normal_shaped(1, 2, 2, 2)]),
    "pool_ch_first": (pool_ch_first, [_normal_shaped(2, 3, 4, 4)]),
    "flatten_dense": (flatten_dense, [_normal_shaped(2, 3, 4)]),
    "temporal_pad": (temporal_pad, [_normal_shaped(2, 3, 2)]),
})


def _evaluate(name, mode):
    fn, args = CASES[name]
    if mode == "eager":
        return np.asarray(K.eval(fn(*[K.constant(a) if a.dtype.kind == "f" else a for a in args])))
    inputs = [K.placeholder(shape=(None,) + a.shape[1:], dtype=str(a.dtype)) for a in args]
    return np.asarray(K.function(inputs, [fn(*inputs)])(args)[0])


@pytest.mark.parametrize("mode", ["eager", "symbolic"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_snippet(name, backend, mode):
    with K.backend_scope("numpy"):
        expected = _evaluate(name, "eager")
    with K.backend_scope(backend):
        got = _evaluate(name, mode)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


LOOPS = {  # snippet, whether its time axis (rather than its batch axis) is the unknown one
    "rnn_sum": True, "rnn_sum2": True, "map_fn": False, "foldl": False,
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(LOOPS))
def test_loops_over_an_unknown_length(name, backend):
    """K.rnn over variable-length sequences and K.map_fn / K.foldl over an unknown batch, as in Keras 2."""
    fn, args = CASES[name]
    over_time = LOOPS[name]
    shorter = [a[:, :3] if over_time else a[:2] for a in args]
    with K.backend_scope("numpy"):
        expected = [np.asarray(K.eval(fn(*[K.constant(a) for a in batch]))) for batch in (args, shorter)]
    with K.backend_scope(backend):
        inputs = []
        for a in args:
            shape = list(a.shape)
            shape[1 if over_time else 0] = None
            inputs.append(K.placeholder(shape=tuple(shape), dtype=str(a.dtype)))
        f = K.function(inputs, [fn(*inputs)])
        for batch, want in zip((args, shorter), expected):
            np.testing.assert_allclose(f(batch)[0], want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_rnn_over_unknown_time_differentiates_the_weights_its_step_reads(backend):
    """The step function reads a weight through its closure, as recurrent layers do."""
    weights = np.array([[1.0, 0.5], [0.0, 1.0]], np.float32)
    data = np.linspace(-1, 1, 12, dtype=np.float32).reshape(2, 3, 2)

    def last_output(x, w):
        def step(inputs, states):
            out = K.tanh(K.dot(inputs, w) + states[0])
            return out, [out]

        return K.rnn(step, x, [K.zeros_like(x[:, 0, :])])[0]

    with K.backend_scope(backend):
        w = K.variable(weights)
        x = K.placeholder((None, None, 2))
        loss = K.sum(last_output(x, w))
        grad, = K.gradients(loss, [w])
        got = K.function([x], [grad])([data])[0]

    def numpy_loss(wv):
        state = np.zeros((2, 2))
        for t in range(3):
            state = np.tanh(data[:, t] @ wv + state)
        return state.sum()

    expected = np.zeros_like(weights, dtype=np.float64)
    for index in np.ndindex(weights.shape):
        up, down = weights.astype(np.float64), weights.astype(np.float64)
        up[index] += 1e-4
        down[index] -= 1e-4
        expected[index] = (numpy_loss(up) - numpy_loss(down)) / 2e-4
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("backend", BACKENDS)
def test_loop_over_unknown_length_reads_outside_tensors(backend):
    """A loop body may read graph tensors from outside its arguments, as Keras 2's LSTM step reads its
    cached dropout masks and the learning phase: map_fn over a None batch, and an rnn over unknown
    time whose step multiplies by a mask chosen by the learning phase."""
    rng_local = np.random.default_rng(7)
    rows = rng_local.standard_normal((4, 3)).astype(np.float32)
    weight = rng_local.standard_normal(3).astype(np.float32)
    sequence = rng_local.standard_normal((2, 5, 3)).astype(np.float32)
    with K.backend_scope(backend):
        x, other = K.placeholder((None, 3)), K.placeholder((3,))
        mapped = K.function([x, other], [K.map_fn(lambda row: row * other, x)])([rows, weight])[0]
        np.testing.assert_allclose(mapped, rows * weight, rtol=1e-6)

        inputs = K.placeholder((None, None, 3))
        mask = K.in_train_phase(lambda: K.ones_like(inputs[:, 0]) * 2.0, lambda: K.ones_like(inputs[:, 0]))
        kernel = K.variable(np.eye(3, dtype=np.float32))

        def step(x_t, states):
            total = states[0] + K.dot(x_t * mask, kernel)
            return total, [total]

        last, _, _ = K.rnn(step, inputs, [K.zeros_like(inputs[:, 0])])
        run = K.function([inputs, K.learning_phase()], [last])
        np.testing.assert_allclose(run([sequence, 0])[0], sequence.sum(axis=1), rtol=1e-5)
        np.testing.assert_allclose(run([sequence, 1])[0], 2 * sequence.sum(axis=1), rtol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras2_adam_optimizer(backend):
    """Keras 2's Adam, written as its get_updates was: moments, a step counter read before its own
    update, bias-corrected learning rate; three steps against the same arithmetic in NumPy."""
    rng_local = np.random.default_rng(3)
    data = rng_local.standard_normal((8, 3)).astype(np.float32)
    target = rng_local.standard_normal((8, 1)).astype(np.float32)
    start = rng_local.standard_normal((3, 1)).astype(np.float32)
    lr, beta_1, beta_2, eps = 0.1, 0.9, 0.999, 1e-7

    with K.backend_scope(backend):
        w = K.variable(start)
        iterations = K.variable(0, dtype="int64")
        m, v = K.zeros((3, 1)), K.zeros((3, 1))
        x, y = K.placeholder((None, 3)), K.placeholder((None, 1))
        loss = K.mean(K.square(K.dot(x, w) - y))
        g, = K.gradients(loss, [w])
        t = K.cast(iterations, K.floatx()) + 1
        lr_t = lr * (K.sqrt(1.0 - K.pow(beta_1, t)) / (1.0 - K.pow(beta_2, t)))
        m_t = beta_1 * m + (1.0 - beta_1) * g
        v_t = beta_2 * v + (1.0 - beta_2) * K.square(g)
        updates = [K.update_add(iterations, 1), K.update(m, m_t), K.update(v, v_t),
                   K.update(w, w - lr_t * m_t / (K.sqrt(v_t) + eps))]
        step = K.function([x, y], [loss], updates=updates)
        losses = [float(step([data, target])[0]) for _ in range(3)]
        final = K.get_value(w)
        assert int(K.get_value(iterations)) == 3

    wn, mn, vn, expected_losses = start.astype(np.float64), np.zeros((3, 1)), np.zeros((3, 1)), []
    for i in range(3):
        error = data @ wn - target
        expected_losses.append(float(np.mean(error ** 2)))
        grad = 2 * data.T @ error / error.size
        t_ = i + 1
        lr_t_ = lr * np.sqrt(1 - beta_1 ** t_) / (1 - beta_2 ** t_)
        mn = beta_1 * mn + (1 - beta_1) * grad
        vn = beta_2 * vn + (1 - beta_2) * grad ** 2
        wn = wn - lr_t_ * mn / (np.sqrt(vn) + eps)
    np.testing.assert_allclose(losses, expected_losses, rtol=1e-4)
    np.testing.assert_allclose(final, wn, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("time_known", [True, False], ids=["static_time", "unknown_time"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["forward", "backward"])
@pytest.mark.parametrize("masked", [False, True], ids=["unmasked", "masked"])
def test_recurrent_layer_through_k_function(backend, time_known, go_backwards, masked):
    """A SimpleRNN as Keras 2 wrote it (K.rnn with a mask, closure weights), its outputs and weight
    gradients through K.function, against the unrolled NumPy graph."""
    local = np.random.default_rng(0)
    data = local.standard_normal((3, 4, 2)).astype(np.float32)
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]], np.float32)
    kernel_value = local.standard_normal((2, 3)).astype(np.float32)
    recurrent_value = local.standard_normal((3, 3)).astype(np.float32)

    def run(engine, steps):
        with K.backend_scope(engine):
            kernel, recurrent = K.variable(kernel_value), K.variable(recurrent_value)
            x, m = K.placeholder((None, steps, 2)), K.placeholder((None, steps))

            def step(inputs, states):
                out = K.tanh(K.dot(inputs, kernel) + K.dot(states[0], recurrent))
                return out, [out]

            start = K.zeros_like(K.dot(x[:, 0, :], kernel))
            last, outputs, states = K.rnn(step, x, [start], mask=m if masked else None, go_backwards=go_backwards)
            wanted = [last, outputs, states[0]]
            if engine != "numpy" or steps is not None:
                wanted += K.gradients(K.sum(last) + K.sum(outputs), [kernel, recurrent])
            return K.function([x, m], wanted)([data, mask])

    expected = run("numpy", 4)
    got = run(backend, 4 if time_known else None)
    for value, want in zip(got, expected):
        np.testing.assert_allclose(value, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backend", BACKENDS)
def test_spatial_dropout_noise_shape_from_k_shape(backend):
    """SpatialDropout1D builds its noise shape from K.shape(x): one mask per sample and channel."""
    with K.backend_scope(backend):
        x = K.placeholder((None, 6, 3))
        dropped = K.dropout(x, 0.5, noise_shape=(K.shape(x)[0], 1, K.shape(x)[2]), seed=1)
        out = K.function([x, K.learning_phase()], [dropped])([np.ones((40, 6, 3), np.float32), 1])[0]
    assert set(np.unique(out)) <= {0.0, 2.0} and 0 < (out == 0).mean() < 1
    np.testing.assert_array_equal(out, np.broadcast_to(out[:, :1, :], out.shape))


@pytest.mark.parametrize("backend", BACKENDS)
def test_embedding_lookup_gradient(backend):
    """An Embedding layer's gradient: repeated ids accumulate into the same row."""
    table_value = np.arange(15, dtype=np.float32).reshape(5, 3) / 10
    ids = np.array([[0, 4], [4, 4]], np.int32)
    with K.backend_scope(backend):
        table = K.variable(table_value)
        lookup = K.placeholder((None, 2), dtype="int32")
        grad, = K.gradients(K.sum(K.square(K.gather(table, lookup))), [table])
        got = K.function([lookup], [grad])([ids])[0]
    expected = np.zeros_like(table_value)
    np.add.at(expected, ids.ravel(), 2 * table_value[ids.ravel()])
    np.testing.assert_allclose(got, expected, rtol=1e-6)
