"""Activations, dropout and bias on TensorFlow; the losses and normalisations are composites."""

import tensorflow as tf

from .random import seed_pair
from .variables import tensor

softplus = tf.math.softplus
sigmoid = tf.math.sigmoid
tanh = tf.math.tanh


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    if threshold == 0.0:
        if alpha == 0.0:
            if max_value is None:
                return tf.nn.relu(x)
            if max_value == 6:
                return tf.nn.relu6(x)
        elif max_value is None:
            x = tensor(x)
            if x.dtype.is_floating and x.dtype != tf.float64:  # the kernel's alpha is a float32
                return tf.nn.leaky_relu(x, alpha)
            return tf.where(x > 0, x, tf.cast(tf.cast(x, tf.float64) * alpha, x.dtype))
    x = tensor(x)
    dtype = x.dtype
    if not dtype.is_floating:
        return tf.cast(relu(tf.cast(x, tf.float64), alpha, max_value, threshold), dtype)
    if threshold != 0.0:
        positive = x * tf.cast(x > threshold, dtype)
    else:
        positive = tf.nn.relu(x)
    if max_value is not None:
        positive = tf.clip_by_value(positive, tf.zeros((), dtype), tf.constant(max_value, dtype))
    if alpha != 0.0:
        positive = positive - tf.constant(alpha, dtype) * tf.nn.relu(tf.constant(threshold, dtype) - x)
    return positive


def elu(x, alpha=1.0):
    result = tf.nn.elu(x)
    if alpha == 1.0:
        return result
    return tf.where(result > 0, result, result * alpha)


def softmax(x, axis=-1):
    return tf.nn.softmax(x, axis)


def dropout(x, level, noise_shape=None, seed=None):
    x = tensor(x)
    if noise_shape is not None:
        noise_shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    if level == 0.0:
        return tf.identity(x)
    return tf.nn.experimental.stateless_dropout(x, level, seed_pair(seed), noise_shape=noise_shape)


def bias_add(x, bias, data_format=None):
    x = tensor(x)
    bias = tensor(bias)
    rank, bias_rank = x.shape.rank, bias.shape.rank
    if bias_rank != 1 and bias_rank != rank - 1:
        raise ValueError(f"bias_add: argument `bias` got a rank-{bias_rank} tensor of shape "
                         f"{tuple(bias.shape)}; expected rank 1 or {rank - 1} (ndim(x) - 1)")
    if bias.dtype != x.dtype:
        bias = tf.cast(bias, x.dtype)
    if data_format == "channels_first" and rank > 2:
        if bias_rank == 1:
            return x + tf.reshape(bias, (-1,) + (1,) * (rank - 2))
        return x + tf.reshape(bias, (bias.shape[-1], *bias.shape[:-1]))
    if bias_rank == 1:
        return tf.nn.bias_add(x, bias)
    return x + bias
