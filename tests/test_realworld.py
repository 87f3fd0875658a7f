"""Keras 2 code as people wrote it — custom losses, metrics, attention, RNN steps, conv blocks — run on
every engine, eagerly and through placeholders and ``K.function``, against the NumPy reference."""

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

rng = np.random.default_rng(0)


def focal_loss(y_true, y_pred, gamma=2.0, alpha=0.25):
    eps = K.epsilon()
    y_pred = K.clip(y_pred, eps, 1. - eps)
    pt_1 = K.switch(K.equal(y_true, 1), y_pred, K.ones_like(y_pred))
    pt_0 = K.switch(K.equal(y_true, 0), y_pred, K.zeros_like(y_pred))
    return -K.sum(alpha * K.pow(1. - pt_1, gamma) * K.log(pt_1)) - K.sum((1 - alpha) * K.pow(pt_0, gamma) * K.log(1. - pt_0))

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
    "focal": (focal_loss, [(rng.integers(0, 2, (4, 3)).astype("float32")), rng.uniform(0, 1, (4, 3)).astype("float32")]),
    "dice": (dice_coef, [rng.integers(0, 2, (2, 4, 4)).astype("float32"), rng.uniform(0, 1, (2, 4, 4)).astype("float32")]),
    "recall": (recall_m, [rng.integers(0, 2, (5, 3)).astype("float32"), rng.uniform(0, 1, (5, 3)).astype("float32")]),
    "attention": (attention, [rng.standard_normal((2, 3, 4)).astype("float32")] * 3),
    "triplet": (triplet, [rng.standard_normal((5, 8)).astype("float32") for _ in range(3)]),
    "rnn_sum": (rnn_sum, [rng.standard_normal((2, 5, 3)).astype("float32")]),
    "rnn_sum2": (rnn_sum2, [rng.standard_normal((2, 5, 3)).astype("float32")]),
    "gram": (gram, [rng.standard_normal((2, 4, 4, 3)).astype("float32")]),
    "wasserstein": (wasserstein, [rng.standard_normal((4, 1)).astype("float32")] * 2),
    "contrastive": (contrastive, [rng.integers(0, 2, (6,)).astype("float32"), rng.uniform(0, 2, (6,)).astype("float32")]),
    "huber": (huber, [rng.standard_normal((4, 3)).astype("float32") * 2, rng.standard_normal((4, 3)).astype("float32")]),
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
        if backend == "numpy":
            with pytest.raises(NotImplementedError, match="gradient of rnn is not implemented on the numpy backend"):
                K.function([x], [grad])([data])
            return
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


def test_loop_over_unknown_length_refuses_outside_tensors():
    x = K.placeholder((None, 3))
    other = K.placeholder((3,))
    with pytest.raises(NotImplementedError, match=r"map_fn: over an unknown length, the loop body reads Placeholder"):
        K.map_fn(lambda row: row * other, x)


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
