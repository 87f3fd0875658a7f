"""Cases for activations, losses, dropout and normalisation.

``expected`` values are computed in float64 from the Keras 2 formulas and cast to the input dtype.
"""

import itertools

import numpy as np

from . import ALL_FLOATS, Arr, Case, Ints, Rand


def _f64(x):
    return np.asarray(x).astype(np.float64)


def _like(value, x):
    return np.asarray(value).astype(np.asarray(x).dtype)


def _relu(x, alpha=0.0, max_value=None, threshold=0.0):
    v = _f64(x)
    positive = np.where(v > threshold, v, 0.0)
    if max_value is not None:
        positive = np.clip(positive, 0.0, max_value)
    return _like(positive + alpha * np.minimum(v - threshold, 0.0), x)


def _relu_case(alpha, max_value, threshold):
    kwargs = {"alpha": alpha, "max_value": max_value, "threshold": threshold}
    name = f"a{alpha}-m{max_value}-t{threshold}"
    return Case("relu", (Rand((4, 6), -3, 8),), kwargs, dtypes=ALL_FLOATS, name=name,
                expected=lambda x, **k: _relu(x, **k))


def _softmax(x, axis=-1):
    v = np.exp(_f64(x) - _f64(x).max(axis=axis, keepdims=True))
    return _like(v / v.sum(axis=axis, keepdims=True), x)


def _categorical(target, output, from_logits=False, axis=-1):
    t, o = _f64(target), _f64(output)
    if from_logits:
        log_p = o - np.log(np.exp(o).sum(axis=axis, keepdims=True))
    else:
        log_p = np.log(np.clip(o / o.sum(axis=axis, keepdims=True), 1e-7, 1 - 1e-7))
    return _like(-(t * log_p).sum(axis=axis), output)


def _sparse(target, output, from_logits=False, axis=-1):
    o = np.moveaxis(_f64(output), axis, -1)
    logits = o if from_logits else np.log(np.clip(o, 1e-7, 1 - 1e-7))
    log_p = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    t = np.asarray(target).astype(np.int64).reshape(o.shape[:-1])
    return _like(-np.take_along_axis(log_p, t[..., None], axis=-1)[..., 0], output)


def _binary(target, output, from_logits=False):
    t, o = _f64(target), _f64(output)
    if from_logits:
        p = 1 / (1 + np.exp(-o))
        return _like(-(t * np.log(p) + (1 - t) * np.log(1 - p)), output)
    o = np.clip(o, 1e-7, 1 - 1e-7)
    return _like(-(t * np.log(o + 1e-7) + (1 - t) * np.log(1 - o + 1e-7)), output)


def _in_top_k(predictions, targets, k):
    p = _f64(predictions)
    target_values = p[np.arange(len(p)), targets][:, None]
    return (p > target_values).sum(axis=1) < k


def _moments(x, axes):
    v = _f64(x)
    return v.mean(axis=tuple(axes)), v.var(axis=tuple(axes))


def _normalize_batch(x, gamma, beta, reduction_axes, epsilon=0.001):
    mean, var = _moments(x, reduction_axes)
    kept = tuple(1 if a in reduction_axes else d for a, d in enumerate(np.shape(x)))
    normed = (_f64(x) - mean.reshape(kept)) / np.sqrt(var.reshape(kept) + epsilon)
    if gamma is not None:
        normed = normed * _f64(gamma).reshape(kept)
    if beta is not None:
        normed = normed + _f64(beta).reshape(kept)
    return _like(normed, x), _like(mean, x), _like(var, x)


def _batch_norm(x, mean, var, beta, gamma, axis=-1, epsilon=0.001):
    shape = [1] * np.ndim(x)
    shape[axis] = -1

    def along(p, default):
        return default if p is None else (_f64(p).reshape(shape) if np.ndim(p) == 1 else _f64(p))

    normed = (_f64(x) - along(mean, 0)) / np.sqrt(along(var, 0) + epsilon)
    return _like(normed * along(gamma, 1) + along(beta, 0), x)


def _bias_add_last(x, bias, data_format=None):
    return _like(_f64(x) + _f64(bias), x)


def _bias_add_first(x, bias, data_format=None):
    b = _f64(bias)
    if b.ndim == 1:
        b = b.reshape((-1,) + (1,) * (np.ndim(x) - 2))
    else:
        b = b.reshape((b.shape[-1],) + b.shape[:-1])
    return _like(_f64(x) + b, x)


def _dropout_check(level, rows_whole=False):
    def check(out, x, *args, **kwargs):
        out64, x64 = _f64(out), _f64(x)
        dropped = out64 == 0
        draws = len(out) if rows_whole else out.size
        tolerance = 4 * np.sqrt(level * (1 - level) / draws)
        assert abs(dropped.mean() - level) < tolerance, f"dropped fraction {dropped.mean()} vs level {level}"
        tolerance = 4e-2 if out.dtype.itemsize == 2 else 1e-5
        np.testing.assert_allclose(out64[~dropped], x64[~dropped] / (1 - level), rtol=tolerance)
        if rows_whole:
            assert np.all(dropped.all(axis=1) | ~dropped.any(axis=1)), "noise_shape (n, 1) drops whole rows"

    return check


CASES = [
    *(_relu_case(a, m, t) for a, m, t in itertools.product((0.0, 0.2), (None, 1.5, 6.0), (0.0, 0.7))),
    _relu_case(0.0, None, -0.6),
    _relu_case(0.3, 2.0, -0.6),
    Case("elu", (Rand((4, 5), -3, 3),), dtypes=ALL_FLOATS,
         expected=lambda x: _like(np.where(_f64(x) > 0, _f64(x), np.expm1(_f64(x))), x)),
    Case("elu", (Rand((4, 5), -3, 3),), {"alpha": 0.4}, dtypes=ALL_FLOATS, name="alpha",
         expected=lambda x, alpha: _like(np.where(_f64(x) > 0, _f64(x), alpha * np.expm1(_f64(x))), x)),
    Case("softmax", (Rand((3, 5), -4, 4),), dtypes=ALL_FLOATS, expected=lambda x: _softmax(x)),
    Case("softmax", (Rand((2, 3, 4), -4, 4),), {"axis": 1}, dtypes=ALL_FLOATS, name="axis1",
         expected=lambda x, axis: _softmax(x, axis)),
    Case("softmax", (Arr([[1000.0, 0.0], [-1000.0, 0.0]]),), dtypes=("float32", "float64"), name="large",
         expected=lambda x: _like([[1.0, 0.0], [0.0, 1.0]], x)),
    Case("softmax", (Rand((5,), -4, 4),), name="rank1",
         oracle="tf_keras rejects 1-D input; Keras 2.3.1 accepts it",
         expected=lambda x: _softmax(x)),
    Case("softplus", (Rand((4, 5), -10, 10),), dtypes=ALL_FLOATS,
         expected=lambda x: _like(np.log1p(np.exp(_f64(x))), x)),
    Case("softplus", (Arr([-100.0, 0.0, 100.0]),), dtypes=("float32", "float64"), name="extremes",
         expected=lambda x: _like([0.0, np.log(2.0), 100.0], x)),
    Case("softsign", (Rand((4, 5), -5, 5),), dtypes=ALL_FLOATS,
         expected=lambda x: _like(_f64(x) / (1 + np.abs(_f64(x))), x)),
    Case("sigmoid", (Rand((4, 5), -8, 8),), dtypes=ALL_FLOATS,
         expected=lambda x: _like(1 / (1 + np.exp(-_f64(x))), x)),
    Case("sigmoid", (Arr([-1000.0, 0.0, 1000.0]),), dtypes=("float32", "float64"), name="extremes",
         expected=lambda x: _like([0.0, 0.5, 1.0], x)),
    Case("hard_sigmoid", (Rand((4, 5), -4, 4),), dtypes=ALL_FLOATS,
         expected=lambda x: _like(np.clip(0.2 * _f64(x) + 0.5, 0, 1), x)),
    Case("tanh", (Rand((4, 5), -4, 4),), dtypes=ALL_FLOATS, expected=lambda x: _like(np.tanh(_f64(x)), x)),
    Case("categorical_crossentropy", (Arr(np.eye(4)[[0, 2, 3, 1, 0]]), Rand((5, 4), 0.05, 1)),
         dtypes=ALL_FLOATS, name="probabilities", expected=_categorical),
    Case("categorical_crossentropy", (Rand((5, 4), 0, 1), Rand((5, 4), -3, 3)), {"from_logits": True},
         dtypes=ALL_FLOATS, name="logits", expected=_categorical),
    Case("categorical_crossentropy",
         (Arr(np.eye(3)[[[0, 1], [2, 2]]].transpose(0, 2, 1)), Rand((2, 3, 2), 0.05, 1)),
         {"axis": 1}, dtypes=ALL_FLOATS, name="axis1", expected=_categorical),
    Case("categorical_crossentropy",
         (Arr(np.eye(3)), Arr([[0.9, 0.05, 0.05], [0.05, 0.89, 0.06], [0.05, 0.01, 0.94]])),
         name="keras_doc", expected=np.array([0.10536, 0.11653, 0.06188], np.float32), atol=1e-5),
    Case("categorical_crossentropy", (Arr([[1.0, 0.0]]), Arr([[0.0, 1.0]])), dtypes=("float32", "float64"),
         name="clipped", expected=lambda t, o: _like([-np.log(np.float32(1e-7))], o), rtol=1e-4,
         gradient="the output sits on the clipping bound, where the loss has a kink"),
    Case("sparse_categorical_crossentropy", (Ints((5,), 0, 4), Rand((5, 4), 0.05, 1)), dtypes=ALL_FLOATS,
         name="probabilities", expected=_sparse),
    Case("sparse_categorical_crossentropy", (Ints((5,), 0, 4), Rand((5, 4), -3, 3)), {"from_logits": True},
         dtypes=ALL_FLOATS, name="logits", expected=_sparse),
    Case("sparse_categorical_crossentropy", (Ints((5, 1), 0, 4), Rand((5, 4), 0.05, 1)), dtypes=ALL_FLOATS,
         name="target_n1", expected=_sparse),
    Case("sparse_categorical_crossentropy", (Ints((2, 3), 0, 4, "int64"), Rand((2, 3, 4), -3, 3)),
         {"from_logits": True}, dtypes=ALL_FLOATS, name="rank3", expected=_sparse),
    Case("sparse_categorical_crossentropy", (Ints((2, 3), 0, 4), Rand((2, 4, 3), 0.05, 1)), {"axis": 1},
         dtypes=ALL_FLOATS, name="axis1", expected=_sparse),
    Case("sparse_categorical_crossentropy", (Arr([0.0, 2.0]), Rand((2, 3), 0.05, 1)), dtypes=("float32",),
         name="float_target", expected=_sparse),
    # ids outside [0, classes): a ValueError when the labels are concrete (tests/test_agree.py), a loss of
    # 0 on NumPy, torch and JAX when they are fed to a K.function (TensorFlow's kernel refuses them).
    Case("categorical_crossentropy", (Rand((5, 4), 0, 1), Rand((2, 5, 4), -3, 3)), {"from_logits": True},
         dtypes=("float32", "float64"), name="broadcast_target", expected=_categorical,
         oracle="tf_keras requires the target and output shapes to match"),
    Case("binary_crossentropy", (Rand((4,), 0, 1), Rand((3, 4), -6, 6)), {"from_logits": True},
         dtypes=("float32", "float64"), name="broadcast_logits", expected=_binary,
         oracle="tf_keras requires the target and output shapes to match"),
    Case("binary_crossentropy", (Rand((3, 4), 0, 1), Rand((3, 4), 0, 1)), dtypes=ALL_FLOATS,
         name="probabilities", expected=_binary),
    Case("binary_crossentropy", (Rand((3, 4), 0, 1), Rand((3, 4), -6, 6)), {"from_logits": True},
         dtypes=ALL_FLOATS, name="logits", expected=_binary),
    Case("binary_crossentropy", (Arr([1.0, 0.0, 1.0]), Arr([0.0, 1.0, 1.0])), dtypes=("float32", "float64"),
         name="clipped", rtol=1e-2, expected=_binary,
         gradient="the output sits on the clipping bound, where the loss has a kink"),
    Case("dropout", (Rand((200, 200), 1, 2), 0.3), {"seed": 3}, dtypes=ALL_FLOATS, compare="shape",
         check=_dropout_check(0.3)),
    Case("dropout", (Rand((200, 200), 1, 2), 0.5), {"noise_shape": (200, 1), "seed": 3}, dtypes=ALL_FLOATS,
         name="noise_shape", compare="shape", check=_dropout_check(0.5, rows_whole=True)),
    Case("dropout", (Rand((200, 200), 1, 2), 0.5), {"noise_shape": (None, 1), "seed": 3}, name="noise_none",
         compare="shape", check=_dropout_check(0.5, rows_whole=True)),
    Case("dropout", (Rand((200, 200), 1, 2), 0.0), name="level0", expected=lambda x, level: x),
    Case("l2_normalize", (Rand((3, 4)),), dtypes=ALL_FLOATS,
         expected=lambda x: _like(_f64(x) / np.sqrt((_f64(x) ** 2).sum()), x)),
    Case("l2_normalize", (Rand((3, 4)),), {"axis": 1}, dtypes=ALL_FLOATS, name="axis1",
         expected=lambda x, axis: _like(_f64(x) / np.sqrt((_f64(x) ** 2).sum(axis=1, keepdims=True)), x)),
    Case("l2_normalize", (Rand((2, 3, 4)),), {"axis": [0, 2]}, dtypes=ALL_FLOATS, name="axes",
         expected=lambda x, axis: _like(_f64(x) / np.sqrt((_f64(x) ** 2).sum(axis=(0, 2), keepdims=True)),
                                        x)),
    Case("l2_normalize", (Arr([[0.0, 0.0], [3.0, 4.0]]),), {"axis": -1}, name="zero_row",
         expected=np.array([[0.0, 0.0], [0.6, 0.8]], np.float32)),
    *(Case("in_top_k", (Rand((8, 6)), Ints((8,), 0, 6), k), dtypes=ALL_FLOATS, name=f"k{k}",
           expected=_in_top_k) for k in range(1, 7)),
    *(Case("in_top_k", (Arr([[0.5, 0.5, 0.2, 0.5], [0.1, 0.3, 0.3, 0.9], [0.4, 0.4, 0.4, 0.4]]),
                        Arr([1, 2, 3], floating=False, dtype="int32"), k),
           dtypes=ALL_FLOATS, name=f"ties-k{k}", expected=_in_top_k) for k in range(1, 5)),
    Case("normalize_batch_in_training", (Rand((6, 3)), Rand((3,), 0.5, 2), Rand((3,)), [0]),
         dtypes=ALL_FLOATS, name="2d", expected=_normalize_batch),
    Case("normalize_batch_in_training", (Rand((2, 3, 4, 5)), Rand((5,), 0.5, 2), Rand((5,)), [0, 1, 2]),
         dtypes=ALL_FLOATS, name="nhwc", expected=_normalize_batch,
         oracle="tf_keras's fused NHWC path returns the Bessel-corrected variance "
                "(it normalises with the biased one)"),
    Case("normalize_batch_in_training", (Rand((2, 3, 4, 5)), Rand((3,), 0.5, 2), Rand((3,)), [0, 2, 3]),
         dtypes=ALL_FLOATS, name="nchw", expected=_normalize_batch),
    Case("normalize_batch_in_training", (Rand((4, 3, 2)), None, None, (0, 1)), {"epsilon": 0.01},
         dtypes=ALL_FLOATS, name="no_gamma_beta", expected=_normalize_batch),
    Case("normalize_batch_in_training", (Rand((4, 3, 2)), Rand((3,), 0.5, 2), None, [0, 2]),
         dtypes=ALL_FLOATS, name="middle", expected=_normalize_batch),
    Case("batch_normalization",
         (Rand((6, 3)), Rand((3,)), Rand((3,), 0.1, 1), Rand((3,)), Rand((3,), 0.5, 2)),
         dtypes=ALL_FLOATS, expected=_batch_norm),
    Case("batch_normalization", (Rand((2, 3, 4, 5)), Rand((5,)), Rand((5,), 0.1, 1), Rand((5,)),
                                 Rand((5,), 0.5, 2)), {"axis": -1}, dtypes=ALL_FLOATS, name="nhwc",
         expected=_batch_norm),
    Case("batch_normalization", (Rand((2, 3, 4, 5)), Rand((3,)), Rand((3,), 0.1, 1), Rand((3,)),
                                 Rand((3,), 0.5, 2)), {"axis": 1}, dtypes=ALL_FLOATS, name="nchw",
         expected=_batch_norm),
    Case("batch_normalization", (Rand((2, 3, 4)), Rand((1, 3, 1)), Rand((1, 3, 1), 0.1, 1), Rand((1, 3, 1)),
                                 Rand((1, 3, 1), 0.5, 2)), {"axis": 1, "epsilon": 0.01}, dtypes=ALL_FLOATS,
         name="broadcast", expected=_batch_norm),
    Case("batch_normalization", (Rand((6, 3)), Rand((3,)), Rand((3,), 0.1, 1), None, None), dtypes=ALL_FLOATS,
         name="no_beta_gamma", expected=_batch_norm),
    Case("bias_add", (Rand((4, 3)), Rand((3,))), dtypes=ALL_FLOATS, expected=_bias_add_last),
    Case("bias_add", (Rand((2, 4, 3)), Rand((3,))), {"data_format": "channels_last"}, dtypes=ALL_FLOATS,
         name="3d_last", expected=_bias_add_last),
    Case("bias_add", (Rand((2, 3, 4)), Rand((3,))), {"data_format": "channels_first"}, dtypes=ALL_FLOATS,
         name="3d_first", expected=_bias_add_first),
    Case("bias_add", (Rand((2, 4, 5, 3)), Rand((4, 5, 3))), {"data_format": "channels_last"},
         dtypes=ALL_FLOATS, name="4d_full_last", expected=_bias_add_last),
    Case("bias_add", (Rand((2, 3, 4, 5)), Rand((4, 5, 3))), {"data_format": "channels_first"},
         dtypes=ALL_FLOATS, name="4d_full_first", expected=_bias_add_first),
    Case("bias_add", (Rand((2, 3, 2, 2, 2)), Rand((3,))), {"data_format": "channels_first"},
         dtypes=ALL_FLOATS, name="5d_first", expected=_bias_add_first),
    Case("bias_add", (Rand((2, 2, 2, 2, 3)), Rand((3,))), dtypes=ALL_FLOATS, name="5d_default",
         expected=_bias_add_last),
]
