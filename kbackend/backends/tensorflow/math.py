"""Reductions, elementwise math, comparisons and linear algebra on TensorFlow."""

import builtins

import numpy as np
import tensorflow as tf

from ... import config
from ...ops.math import batch_dot_axes, check_axis
from .variables import TENSORS, tensor

_HALF = (tf.float16, tf.bfloat16)

square = tf.math.square
abs = tf.math.abs
round = tf.math.round
sign = tf.math.sign


def _floating(x):
    """``x`` with bool and integer values cast to ``floatx()``."""
    if x.dtype.is_floating:
        return x
    return tf.cast(x, config._floatx)


def _reduced(func, reduce, x, axis, keepdims):
    x = tensor(x)
    if axis is not None:
        axis = check_axis(func, axis, x.shape.rank)
    return reduce(x, axis, keepdims)


def _counted(x):
    """Sums of bools count: bool → int64 (NumPy's rule)."""
    return tf.cast(x, tf.int64) if x.dtype == tf.bool else x


def max(x, axis=None, keepdims=False):
    return _reduced("max", tf.math.reduce_max, x, axis, keepdims)


def min(x, axis=None, keepdims=False):
    return _reduced("min", tf.math.reduce_min, x, axis, keepdims)


def sum(x, axis=None, keepdims=False):
    return _reduced("sum", tf.math.reduce_sum, _counted(tensor(x)), axis, keepdims)


def prod(x, axis=None, keepdims=False):
    return _reduced("prod", tf.math.reduce_prod, _counted(tensor(x)), axis, keepdims)


def cumsum(x, axis=0):
    x = _counted(tensor(x))
    return tf.math.cumsum(x, check_axis("cumsum", axis, x.shape.rank))


def cumprod(x, axis=0):
    x = _counted(tensor(x))
    return tf.math.cumprod(x, check_axis("cumprod", axis, x.shape.rank))


def _in_float32(reduce):
    """``reduce`` on a float tensor; float16/bfloat16 run in float32 and are cast back."""

    def run(x, axis, keepdims):
        if x.dtype in _HALF:
            return tf.cast(reduce(tf.cast(x, tf.float32), axis, keepdims), x.dtype)
        return reduce(x, axis, keepdims)

    return run


_mean = _in_float32(tf.math.reduce_mean)
_var = _in_float32(tf.math.reduce_variance)
_std = _in_float32(tf.math.reduce_std)
_logsumexp = _in_float32(tf.math.reduce_logsumexp)


def mean(x, axis=None, keepdims=False):
    return _reduced("mean", _mean, _floating(tensor(x)), axis, keepdims)


def var(x, axis=None, keepdims=False):
    return _reduced("var", _var, _floating(tensor(x)), axis, keepdims)


def std(x, axis=None, keepdims=False):
    return _reduced("std", _std, _floating(tensor(x)), axis, keepdims)


def logsumexp(x, axis=None, keepdims=False):
    return _reduced("logsumexp", _logsumexp, _floating(tensor(x)), axis, keepdims)


def argmax(x, axis=-1):
    x = tensor(x)
    return tf.math.argmax(x, check_axis("argmax", axis, x.shape.rank))


def argmin(x, axis=-1):
    x = tensor(x)
    return tf.math.argmin(x, check_axis("argmin", axis, x.shape.rank))


def _as_bool(x):
    x = tensor(x)
    return x if x.dtype == tf.bool else tf.cast(x, tf.bool)


def any(x, axis=None, keepdims=False):
    return _reduced("any", tf.math.reduce_any, _as_bool(x), axis, keepdims)


def all(x, axis=None, keepdims=False):
    return _reduced("all", tf.math.reduce_all, _as_bool(x), axis, keepdims)


def sqrt(x):
    x = _floating(tensor(x))
    return tf.math.sqrt(tf.math.maximum(x, tf.zeros((), x.dtype)))


def exp(x):
    return tf.math.exp(_floating(tensor(x)))


def log(x):
    return tf.math.log(_floating(tensor(x)))


def sin(x):
    return tf.math.sin(_floating(tensor(x)))


def cos(x):
    return tf.math.cos(_floating(tensor(x)))


def _is_number(value):
    return isinstance(value, (int, float))


def _weak(number, like):
    """A Python number against tensor ``like``: it takes like's dtype unless that would drop a fraction,
    in which case an integer ``like`` is widened to float64 (NumPy's rule)."""
    if like.dtype.is_floating or like.dtype.is_integer and isinstance(number, int):
        return tf.constant(number, like.dtype), like
    if like.dtype.is_integer:
        return tf.constant(number, tf.float64), tf.cast(like, tf.float64)
    return tensor(number), like


def _common(a, b):
    """Two tensors in one dtype: NumPy's promotion of their dtypes when they differ."""
    if a.dtype == b.dtype:
        return a, b
    dtype = np.result_type(a.dtype.as_numpy_dtype, b.dtype.as_numpy_dtype)
    return tf.cast(a, dtype), tf.cast(b, dtype)


def _operands(x, y):
    if isinstance(x, TENSORS) and isinstance(y, TENSORS):
        return _common(x, y)
    if _is_number(y) and not _is_number(x):
        number, a = _weak(y, tensor(x))
        return a, number
    if _is_number(x) and not _is_number(y):
        return _weak(x, tensor(y))
    return _common(tensor(x), tensor(y))


def _binary(fn):
    def run(x, y):
        return fn(*_operands(x, y))

    return run


maximum = _binary(tf.math.maximum)
minimum = _binary(tf.math.minimum)
equal = _binary(tf.math.equal)
not_equal = _binary(tf.math.not_equal)
greater = _binary(tf.math.greater)
greater_equal = _binary(tf.math.greater_equal)
less = _binary(tf.math.less)
less_equal = _binary(tf.math.less_equal)


def pow(x, a):
    return tf.math.pow(*_operands(x, a))


def _bound(value, like):
    if _is_number(value):
        return tf.constant(value, like.dtype) if like.dtype.is_floating else tf.cast(value, like.dtype)
    value = tensor(value)
    return value if value.dtype == like.dtype else tf.cast(value, like.dtype)


def clip(x, min_value, max_value):
    x = tensor(x)
    if _is_number(min_value) and _is_number(max_value) and max_value < min_value:
        max_value = min_value
    if min_value is None and max_value is None:
        return tf.identity(x)
    out = x
    if max_value is not None:
        out = tf.math.minimum(out, _bound(max_value, x))
    if min_value is not None:
        out = tf.math.maximum(out, _bound(min_value, x))
    return out


def dot(x, y):
    if isinstance(x, tf.SparseTensor):
        return tf.sparse.sparse_dense_matmul(x, y)
    a, b = _common(tensor(x), tensor(y))
    if a.shape.rank == 2 and b.shape.rank == 2:
        return tf.linalg.matmul(a, b)
    return tf.tensordot(a, b, [[a.shape.rank - 1], [builtins.max(b.shape.rank - 2, 0)]])


def batch_dot(x, y, axes=None):
    a, b = _common(tensor(x), tensor(y))
    x_shape, y_shape = a.shape.as_list(), b.shape.as_list()
    ax, ay = batch_dot_axes(x_shape, y_shape, axes)
    x_rank, y_rank = len(x_shape), len(y_shape)
    if ax != x_rank - 1:
        a = tf.transpose(a, [d for d in range(x_rank) if d != ax] + [ax])
    if ay != 1:
        b = tf.transpose(b, [0, ay] + [d for d in range(1, y_rank) if d != ay])
    x_rest = [d for i, d in enumerate(x_shape) if i not in (0, ax)]
    y_rest = [d for i, d in enumerate(y_shape) if i not in (0, ay)]
    if x_rank == 2 and y_rank == 2:
        return tf.math.reduce_sum(a * b, axis=1, keepdims=True)
    if x_rank != 3:
        a = tf.reshape(a, (-1, int(np.prod(x_rest)), x_shape[ax]))
    if y_rank != 3:
        b = tf.reshape(b, (-1, y_shape[ay], int(np.prod(y_rest))))
    out = tf.linalg.matmul(a, b)
    if x_rank == 3 and y_rank == 3:
        return out
    if not x_rest and not y_rest:
        return tf.reshape(out, (-1, 1))
    return tf.reshape(out, (-1, *x_rest, *y_rest))


def transpose(x):
    return tf.transpose(x)
