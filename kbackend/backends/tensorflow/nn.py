"""Activations, dropout, bias and the crossentropies from logits on TensorFlow; the other losses and
the normalisations are composites."""

import tensorflow as tf

from ..._dispatch import OPS
from ...ops.nn import noise_mask_shape
from .random import seed_pair
from .variables import R, is_float, tensor

_in_top_k = OPS["in_top_k"].reference


def softplus(x):
    return R.Softplus(features=x)


def sigmoid(x):
    return R.Sigmoid(x=x)


def tanh(x):
    return R.Tanh(x=x)


# tensorflow: overrides the composite with the Softsign kernel for floats
def softsign(x):
    x = tensor(x)
    if is_float(x.dtype):
        return R.Softsign(features=x)
    return x / (R.Abs(x=x) + 1)


def _logits_and(target, output):
    """Logits and ``target`` in their dtype."""
    z, t = tensor(output), tensor(target)
    return z, t if t.dtype is z.dtype else R.Cast(x=t, DstT=z.dtype)


def _softmax_cross_entropy(target, output, axis=-1):
    """log_softmax and a sum rather than TensorFlow's fused kernel, whose gradient assumes targets that
    sum to one."""
    z, t = _logits_and(target, output)
    return -tf.reduce_sum(t * tf.nn.log_softmax(z, axis=axis), axis=axis)


def _sparse_softmax_cross_entropy(target, output):
    """Gathered log_softmax: TensorFlow's sparse kernel fails on ids outside [0, classes), which give 0."""
    z = tensor(output)
    ids = tensor(target)
    ids = R.Cast(x=ids, DstT=tf.int64) if ids.dtype is not tf.int64 else ids
    classes = z.shape[-1] if z.shape[-1] is not None else tf.shape(z, out_type=tf.int64)[-1]
    valid = (ids >= 0) & (ids < classes)
    safe = tf.where(valid, ids, tf.zeros_like(ids))
    log_probabilities = tf.nn.log_softmax(z, axis=-1)
    picked = tf.gather(log_probabilities, safe[..., None], axis=-1, batch_dims=len(ids.shape))[..., 0]
    return tf.where(valid, -picked, tf.zeros_like(picked))


# tensorflow: TensorFlow's fused kernel when the shapes match; Keras 2's formula when they broadcast
def _sigmoid_cross_entropy(target, output):
    x, t = _logits_and(target, output)
    if t.shape == x.shape:
        return tf.nn.sigmoid_cross_entropy_with_logits(labels=t, logits=x)
    return tf.nn.relu(x) - x * t + tf.math.log1p(tf.exp(-tf.abs(x)))


def in_top_k(predictions, targets, k):
    """TensorFlow's InTopK kernel (float32; half floats widen exactly); float64 takes the composite."""
    predictions, targets = tensor(predictions), tensor(targets)
    dtype = predictions.dtype
    if predictions.shape.rank != 2 or dtype is tf.float64 or not is_float(dtype):
        return _in_top_k(predictions, targets, k)
    if dtype is not tf.float32:
        predictions = R.Cast(x=predictions, DstT=tf.float32)
    if targets.dtype is not tf.int32 and targets.dtype is not tf.int64:
        targets = R.Cast(x=targets, DstT=tf.int32)
    return R.InTopKV2(predictions=predictions, targets=targets, k=k)


# tensorflow: raw Relu/Maximum/Minimum ops; the threshold path multiplies by a cast mask
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    x = tensor(x)
    dtype = x.dtype
    if threshold == 0.0 and max_value is None:
        if alpha == 0.0:
            return R.Relu(features=x)
        if dtype is not tf.float64 and is_float(dtype):  # the kernel's alpha is a float32 attribute
            return R.LeakyRelu(features=x, alpha=float(alpha))  # (Keras passes a 0-d ndarray)
    if threshold == 0.0 and alpha == 0.0 and max_value == 6:
        return R.Relu6(features=x)
    if not is_float(dtype):
        return R.Cast(x=relu(R.Cast(x=x, DstT=tf.float64), alpha, max_value, threshold), DstT=dtype)
    if threshold != 0.0:
        positive = R.Mul(x=x, y=R.Cast(x=R.Greater(x=x, y=threshold), DstT=dtype))
    else:
        positive = R.Relu(features=x)
    if max_value is not None:
        # Minimum then Maximum, as tf.clip_by_value: a NaN max_value propagates (the ClipByValue kernel drops it)
        positive = R.Maximum(x=R.Minimum(x=positive, y=max_value), y=0)
    if alpha != 0.0:
        positive = R.AddV2(x=positive, y=R.Mul(x=R.Minimum(x=R.Sub(x=x, y=threshold), y=0), y=alpha))
    return positive


# tensorflow: the Elu kernel, its negative part scaled by alpha
def elu(x, alpha=1.0):
    result = R.Elu(features=x)
    if alpha == 1.0:
        return result
    return R.SelectV2(condition=R.Greater(x=result, y=0), t=result, e=R.Mul(x=result, y=alpha))


# tensorflow: the raw Softmax kernel on the last axis
def softmax(x, axis=-1):
    x = tensor(x)
    if axis == -1 or axis == x.shape.rank - 1:
        return R.Softmax(logits=x)
    return tf.nn.softmax(x, axis)


# tensorflow: a stateless draw keyed by the seed pair
def dropout(x, level, noise_shape=None, seed=None):
    x = tensor(x)
    if noise_shape is not None:
        noise_shape = noise_mask_shape(tuple(x.shape), noise_shape)
    if level == 0.0:
        return R.Identity(input=x)
    return tf.nn.experimental.stateless_dropout(x, level, seed_pair(seed), noise_shape=noise_shape)


# tensorflow: BiasAdd for rank-1 biases; a rank-(n-1) bias reshaped as Keras 2 does
def bias_add(x, bias, data_format=None):
    x = tensor(x)
    bias = tensor(bias)
    rank, bias_rank = x.shape.rank, bias.shape.rank
    if bias_rank != 1 and bias_rank != rank - 1:
        raise ValueError(f"bias_add: argument `bias` got a rank-{bias_rank} tensor of shape "
                         f"{tuple(bias.shape)}; expected rank 1 or {rank - 1} (ndim(x) - 1)")
    if bias.dtype is not x.dtype:
        bias = R.Cast(x=bias, DstT=x.dtype)
    channels_first = data_format == "channels_first" and rank > 2
    if bias_rank == 1:
        return R.BiasAdd(value=x, bias=bias, data_format="NCHW" if channels_first else "NHWC")
    if channels_first:
        bias = tf.reshape(bias, (bias.shape[-1], *bias.shape[:-1]))
    return R.AddV2(x=x, y=bias)
