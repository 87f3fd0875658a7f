"""Reductions, elementwise math, comparisons and linear algebra on TensorFlow.

The dtype policy is applied before these run (kbackend.dtypes.POLICY): operands of binary ops share a
dtype, or one is a Python number that the raw op converts to the tensor's dtype.

TensorFlow's API does not mirror NumPy's, and its Python layers cost microseconds per call, so each op
calls its raw kernel (``tf.raw_ops``): a one-line function is this engine's rename-table entry.
"""

import builtins

import numpy as np
import tensorflow as tf

from ...dtypes import numpy_dtype, promote
from ...ops.math import batch_dot_axes, check_axis
from .variables import R, all_axes, int32s, is_float, tensor


def _counted(x):
    """Sums of bools count: bool → int64 (NumPy's rule)."""
    return R.Cast(x=x, DstT=tf.int64) if x.dtype is tf.bool else x


# ---------------------------------------------------------------------------------------------------
# reductions


def _axes(func, x, axis):
    """The canonical ``axis`` as a raw reduction takes it: an int, or a cached int32 constant."""
    rank = x.shape.rank
    if axis is None:
        return all_axes(rank)
    axis = check_axis(func, axis, rank)
    return axis if axis.__class__ is int else int32s(axis)


def _nonempty(func, x, axis):
    """``axis``; raises ``ValueError`` for a max/min over an axis of size 0, which has no identity (the
    reference refuses it; TensorFlow's kernel would give the dtype's lowest/highest value)."""
    if x.shape.num_elements() == 0:
        dims = x.shape.as_list()
        axes = check_axis(func, axis, len(dims))
        axes = range(len(dims)) if axes is None else (axes,) if axes.__class__ is int else axes
        if builtins.any(dims[a] == 0 for a in axes):
            raise ValueError(f"{func}: argument `x` got a tensor of shape {tuple(dims)}; expected no empty axis "
                             f"among the reduced axes {tuple(axes)} ({func} of nothing has no value)")
    return axis


# tensorflow: an empty reduced axis raises, as the reference (TensorFlow's kernel gives the dtype's lowest value)
def max(x, axis=None, keepdims=False):
    x = tensor(x)
    return R.Max(input=x, axis=_axes("max", x, _nonempty("max", x, axis)), keep_dims=keepdims)


# tensorflow: as max
def min(x, axis=None, keepdims=False):
    x = tensor(x)
    return R.Min(input=x, axis=_axes("min", x, _nonempty("min", x, axis)), keep_dims=keepdims)


# tensorflow: bool sums count in int64 (NumPy's rule; sum, prod, cumsum, cumprod)
def sum(x, axis=None, keepdims=False):
    x = _counted(tensor(x))
    return R.Sum(input=x, axis=_axes("sum", x, axis), keep_dims=keepdims)


def prod(x, axis=None, keepdims=False):
    x = _counted(tensor(x))
    return R.Prod(input=x, axis=_axes("prod", x, axis), keep_dims=keepdims)


def cumsum(x, axis=0):
    x = _counted(tensor(x))
    return R.Cumsum(x=x, axis=check_axis("cumsum", axis, x.shape.rank))


def cumprod(x, axis=0):
    x = _counted(tensor(x))
    return R.Cumprod(x=x, axis=check_axis("cumprod", axis, x.shape.rank))


def mean(x, axis=None, keepdims=False):
    x = tensor(x)
    return R.Mean(input=x, axis=_axes("mean", x, axis), keep_dims=keepdims)


def _variance(func, x, axis, keepdims):
    x = tensor(x)
    axes = _axes(func, x, axis)
    centre = R.Mean(input=x, axis=axes, keep_dims=True)
    return R.Mean(input=R.SquaredDifference(x=x, y=centre), axis=axes, keep_dims=keepdims)


def var(x, axis=None, keepdims=False):
    return _variance("var", x, axis, keepdims)


def std(x, axis=None, keepdims=False):
    return R.Sqrt(x=_variance("std", x, axis, keepdims))


# tensorflow: the shift is a stopped gradient and an infinite maximum shifts by 0
def logsumexp(x, axis=None, keepdims=False):
    x = tensor(x)
    axes = _axes("logsumexp", x, axis)
    peak = R.Max(input=x, axis=axes, keep_dims=True)
    shift = R.StopGradient(input=R.SelectV2(condition=R.IsFinite(x=peak), t=peak, e=R.ZerosLike(x=peak)))
    result = R.Log(x=R.Sum(input=R.Exp(x=R.Sub(x=x, y=shift)), axis=axes, keep_dims=keepdims))
    if not keepdims:
        shift = R.Reshape(tensor=shift, shape=R.Shape(input=result, out_type=tf.int32))
    return R.AddV2(x=result, y=shift)


def _as_bool(x):
    x = tensor(x)
    return x if x.dtype is tf.bool else R.Cast(x=x, DstT=tf.bool)


def any(x, axis=None, keepdims=False):
    x = _as_bool(x)
    return R.Any(input=x, axis=_axes("any", x, axis), keep_dims=keepdims)


def all(x, axis=None, keepdims=False):
    x = _as_bool(x)
    return R.All(input=x, axis=_axes("all", x, axis), keep_dims=keepdims)


# tensorflow: int64 indices (output_type), as the reference
def argmax(x, axis=-1):
    x = tensor(x)
    return R.ArgMax(input=x, dimension=check_axis("argmax", axis, x.shape.rank), output_type=tf.int64)


def argmin(x, axis=-1):
    x = tensor(x)
    return R.ArgMin(input=x, dimension=check_axis("argmin", axis, x.shape.rank), output_type=tf.int64)


# ---------------------------------------------------------------------------------------------------
# elementwise math


# tensorflow: bool stays bool (Square has no bool kernel)
def square(x):
    x = tensor(x)
    return R.Identity(input=x) if x.dtype is tf.bool else R.Square(x=x)  # bool stays bool, as on the reference


def abs(x):
    return R.Abs(x=tensor(x))


# tensorflow: integers pass (the Round kernel gives 0 on them)
def round(x):
    x = tensor(x)
    if x.dtype.is_integer:  # the Round kernel gives 0 on integers
        return R.Identity(input=x)
    return R.Round(x=x)


def sign(x):
    return R.Sign(x=tensor(x))


# tensorflow: negative values clipped to 0 first, as the reference
def sqrt(x):
    return R.Sqrt(x=R.Maximum(x=tensor(x), y=0))


def exp(x):
    return R.Exp(x=tensor(x))


def log(x):
    return R.Log(x=tensor(x))


def sin(x):
    return R.Sin(x=tensor(x))


def cos(x):
    return R.Cos(x=tensor(x))


# ---------------------------------------------------------------------------------------------------
# binary ops: a Python number takes the tensor's dtype (the raw op converts it), as Keras 2 did


def _is_number(value):
    return value.__class__ is float or value.__class__ is int or value.__class__ is bool


def common(a, b):
    """Two tensors in one dtype (``switch``'s branches): :func:`kbackend.dtypes.promote` when they differ."""
    if a.dtype is b.dtype:
        return a, b
    dtype = tf.as_dtype(numpy_dtype(promote(a.dtype.name, b.dtype.name)))
    return (a if a.dtype is dtype else R.Cast(x=a, DstT=dtype)), (b if b.dtype is dtype else R.Cast(x=b, DstT=dtype))


def _operands(x, y):
    if _is_number(y) and not _is_number(x):
        return tensor(x), y
    if _is_number(x) and not _is_number(y):
        b = tensor(y)
        return tf.constant(x, b.dtype), b  # a raw op outside eager mode takes its dtype from `x`
    return tensor(x), tensor(y)


def _binary(op):
    def run(x, y):
        a, b = _operands(x, y)
        return op(x=a, y=b)

    return run


maximum = _binary(R.Maximum)
minimum = _binary(R.Minimum)
equal = _binary(R.Equal)
not_equal = _binary(R.NotEqual)
greater = _binary(R.Greater)
greater_equal = _binary(R.GreaterEqual)
less = _binary(R.Less)
less_equal = _binary(R.LessEqual)


def pow(x, a):
    base, exponent = _operands(x, a)
    return R.Pow(x=base, y=exponent)


def _bound(value, like):
    if _is_number(value):
        return value if is_float(like.dtype) else int(value)
    value = tensor(value)
    return value if value.dtype is like.dtype else R.Cast(x=value, DstT=like.dtype)


# tensorflow: number bounds as constants of x's dtype; tensor bounds cast, the lower winning
def clip(x, min_value, max_value):
    x = tensor(x)
    if _is_number(min_value) and _is_number(max_value):
        if max_value < min_value:
            max_value = min_value
        if min_value == min_value and max_value == max_value:  # the kernel ignores a NaN bound: below, it propagates
            return R.ClipByValue(t=x, clip_value_min=_bound(min_value, x), clip_value_max=_bound(max_value, x))
    if min_value is None and max_value is None:
        return R.Identity(input=x)
    out = x
    if max_value is not None:
        out = R.Minimum(x=out, y=_bound(max_value, x))
    if min_value is not None:
        out = R.Maximum(x=out, y=_bound(min_value, x))
    return out


# ---------------------------------------------------------------------------------------------------
# linear algebra


# tensorflow: Keras 2's N-D dot (reshape and matmul); a SparseTensor through sparse_dense_matmul
def dot(x, y):
    if isinstance(x, tf.SparseTensor):
        return tf.sparse.sparse_dense_matmul(x, y)
    a, b = tensor(x), tensor(y)
    a_rank, b_rank = a.shape.rank, b.shape.rank
    if b_rank == 2 and a_rank >= 2:
        if a_rank == 2:
            return R.MatMul(a=a, b=b)
        shape = (*a.shape.as_list()[:-1], b.shape[1])
        if None not in shape:
            flat = R.Reshape(tensor=a, shape=int32s((-1, a.shape[-1])))
            return R.Reshape(tensor=R.MatMul(a=flat, b=b), shape=int32s(shape))
    return tf.tensordot(a, b, [[a_rank - 1], [b_rank - 2 if b_rank >= 2 else 0]])


# tensorflow: the contracted axes moved next to the batch, then one BatchMatMulV2
def batch_dot(x, y, axes=None):
    a, b = tensor(x), tensor(y)
    x_shape, y_shape = a.shape.as_list(), b.shape.as_list()
    ax, ay = batch_dot_axes(x_shape, y_shape, axes)
    x_rank, y_rank = len(x_shape), len(y_shape)
    if x_rank == 2 and y_rank == 2:
        return R.Sum(input=R.Mul(x=a, y=b), axis=1, keep_dims=True)
    if ax != x_rank - 1:
        a = R.Transpose(x=a, perm=int32s(tuple(d for d in range(x_rank) if d != ax) + (ax,)))
    if ay != 1:
        b = R.Transpose(x=b, perm=int32s((0, ay) + tuple(d for d in range(1, y_rank) if d != ay)))
    x_rest = tuple(d for i, d in enumerate(x_shape) if i not in (0, ax))
    y_rest = tuple(d for i, d in enumerate(y_shape) if i not in (0, ay))
    if x_rank != 3:
        a = R.Reshape(tensor=a, shape=int32s((-1, int(np.prod(x_rest)), x_shape[ax])))
    if y_rank != 3:
        b = R.Reshape(tensor=b, shape=int32s((-1, y_shape[ay], int(np.prod(y_rest)))))
    out = R.BatchMatMulV2(x=a, y=b)
    if x_rank == 3 and y_rank == 3:
        return out
    return R.Reshape(tensor=out, shape=int32s((-1, *x_rest, *y_rest)))


# tensorflow: the reversed permutation as a cached constant
def transpose(x):
    x = tensor(x)
    return R.Transpose(x=x, perm=int32s(tuple(range(x.shape.rank - 1, -1, -1))))
