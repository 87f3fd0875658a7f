"""Random tensors and variables on TensorFlow: stateless kernels keyed by the seed, so a seed reproduces."""

import numpy as np
import tensorflow as tf

from .variables import DTYPES, TENSORS, R, Variable, uid_name


def seed_pair(seed, high=10e8):
    """The shape-(2,) int64 key of a stateless tf random op from an int or int tensor seed (a graph
    feeds one per run); ``None`` draws one from NumPy's RNG."""
    if isinstance(seed, TENSORS):
        seed = R.Cast(x=seed, DstT=tf.int64)
        return R.Pack(values=[R.BitwiseAnd(x=seed, y=0xFFFFFFFF), R.RightShift(x=seed, y=32)], axis=0)
    if seed is None:
        seed = np.random.randint(high)
    seed = int(seed)
    return tf.constant((seed & 0xFFFFFFFF, (seed >> 32) & 0xFFFFFFFF), dtype=tf.int64)


def _shape(shape):
    return (shape,) if isinstance(shape, int) else shape


def random_uniform_variable(shape, low, high, dtype=None, name=None, seed=None):
    values = tf.random.stateless_uniform(_shape(shape), seed_pair(seed), low, high, DTYPES[dtype])
    return Variable(values, name=uid_name(name, "variable"))


def random_normal_variable(shape, mean, scale, dtype=None, name=None, seed=None):
    values = tf.random.stateless_normal(_shape(shape), seed_pair(seed), mean, scale, DTYPES[dtype])
    return Variable(values, name=uid_name(name, "variable"))


def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return tf.random.stateless_normal(shape, seed_pair(seed), mean, stddev, DTYPES[dtype])


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    return tf.random.stateless_truncated_normal(shape, seed_pair(seed), mean, stddev, DTYPES[dtype])


_UNIFORM_INTS = ("int32", "int64", "uint32", "uint64")


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    key = seed_pair(seed)
    dtype = DTYPES[dtype]
    if dtype.is_integer:
        if dtype.name in _UNIFORM_INTS:
            return tf.random.stateless_uniform(shape, key, int(minval), int(maxval), dtype)
        values = tf.random.stateless_uniform(shape, key, int(minval), int(maxval), tf.int64)
        return tf.cast(values, dtype)
    return tf.random.stateless_uniform(shape, key, minval, maxval, dtype)


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    return tf.cast(tf.random.stateless_uniform(shape, seed_pair(seed)) < p, DTYPES[dtype])
