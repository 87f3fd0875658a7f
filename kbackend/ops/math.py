"""Reductions, elementwise math, comparisons and linear algebra.

Each op declares its dtype categories (``policy=`` in :func:`~kbackend._dispatch.op`; the categories are
:data:`kbackend.dtypes.POLICY`), and the generated public function applies them before any backend runs:
``promote`` operands meet in one dtype (a Python or NumPy scalar number takes the tensor's), ``real``
inputs that are bool or int become ``floatx()``, ``accumulate-half`` float16/bfloat16 inputs are computed
in float32 and cast back.  The bodies below, and every engine's, only see operands already typed.

:func:`check_axis` and :func:`batch_dot_axes` (:mod:`.math_rules`) hold the data-dependent validation, so
every backend raises the same errors.
"""

import builtins
import math
import numbers

import numpy as np

from .._dispatch import ArgError, axes, one_axis, op
from ..dtypes import canonical_dtype, numpy_dtype, promote
from ..sparse import is_scipy_sparse
from . import math_rules as rules
from .math_rules import batch_dot_axes, check_axis
from .namespace import NUMPY
from .namespace import out as _out
from .namespace import tensor as _tensor


def _is_number(value):
    return isinstance(value, (int, float))


def promoted(a, b):
    """Two arrays in the dtype they compute in (:func:`kbackend.dtypes.promote`), for bodies that meet
    two values outside a declared ``promote`` op (``switch``'s branches)."""
    if a.dtype == b.dtype:
        return a, b
    dtype = numpy_dtype(promote(canonical_dtype(a.dtype), canonical_dtype(b.dtype)))
    return a.astype(dtype, copy=False), b.astype(dtype, copy=False)


def _accumulate(method, x, **kwargs):
    """Run a ufunc method (``np.add.reduce``, ``np.multiply.accumulate``…) keeping an int ``x``'s dtype
    (NumPy would widen int32 to int64).  The ufunc methods are called directly: ``np.sum`` and friends
    add several microseconds of Python around the same kernel."""
    if x.dtype.kind in "iu":
        return _out(method(x, dtype=x.dtype, **kwargs))
    return _out(method(x, **kwargs))


# ---------------------------------------------------------------------------------------------------
# reductions


@op(shape_rule=rules.reduced("max"), axis=axes, policy="same")
def max(x, axis=None, keepdims=False, *, xp=NUMPY):
    """Return the maximum of ``x`` over ``axis`` (an int, a list of ints, or None for all axes).

    ``keepdims=True`` keeps each reduced axis with length 1.

    >>> import numpy as np, kbackend as K
    >>> K.max(np.array([[1, 5, 2], [7, 0, 3]]), axis=1)
    array([5, 7])
    """
    x = xp.tensor(x)
    return xp.out(xp.max(x, axis=check_axis("max", axis, x.ndim), keepdims=keepdims))


@op(shape_rule=rules.reduced("min"), axis=axes, policy="same")
def min(x, axis=None, keepdims=False, *, xp=NUMPY):
    """Return the minimum of ``x`` over ``axis`` (an int, a list of ints, or None for all axes).

    >>> import numpy as np, kbackend as K
    >>> K.min(np.array([[1, 5, 2], [7, 0, 3]]), axis=0)
    array([1, 0, 2])
    """
    x = xp.tensor(x)
    return xp.out(xp.min(x, axis=check_axis("min", axis, x.ndim), keepdims=keepdims))


@op(shape_rule=rules.reduced("sum"), axis=axes, policy=("same", "accumulate-half"))
def sum(x, axis=None, keepdims=False):
    """Return the sum of ``x`` over ``axis``; the dtype of ``x`` is kept (int32 stays int32).

    >>> import numpy as np, kbackend as K
    >>> K.sum(np.array([[1, 2], [3, 4]]), axis=1, keepdims=True)
    array([[3],
           [7]])
    """
    x = _tensor(x)
    return _accumulate(np.add.reduce, x, axis=check_axis("sum", axis, x.ndim), keepdims=keepdims)


@op(shape_rule=rules.reduced("prod"), axis=axes, policy=("same", "accumulate-half"))
def prod(x, axis=None, keepdims=False):
    """Return the product of the values of ``x`` over ``axis``; the dtype of ``x`` is kept.

    >>> import numpy as np, kbackend as K
    >>> K.prod(np.array([[2, 4, 6], [2, 4, 6]]), axis=1)
    array([48, 48])
    """
    x = _tensor(x)
    return _accumulate(np.multiply.reduce, x, axis=check_axis("prod", axis, x.ndim), keepdims=keepdims)


@op(shape_rule=rules.along_axis("cumsum"), axis=one_axis, policy=("same", "accumulate-half"))
def cumsum(x, axis=0):
    """Return the cumulative sum of ``x`` along ``axis`` (default 0, the first axis); shape is kept.

    >>> import numpy as np, kbackend as K
    >>> K.cumsum(np.array([[1, 2], [3, 4]]))
    array([[1, 2],
           [4, 6]])
    """
    x = _tensor(x)
    return _accumulate(np.add.accumulate, x, axis=check_axis("cumsum", axis, x.ndim))


@op(shape_rule=rules.along_axis("cumprod"), axis=one_axis, policy=("same", "accumulate-half"))
def cumprod(x, axis=0):
    """Return the cumulative product of ``x`` along ``axis`` (default 0, the first axis).

    >>> import numpy as np, kbackend as K
    >>> K.cumprod(np.array([[1, 2], [3, 4]]), axis=1)
    array([[ 1,  2],
           [ 3, 12]])
    """
    x = _tensor(x)
    return _accumulate(np.multiply.accumulate, x, axis=check_axis("cumprod", axis, x.ndim))


def _moment(reduce, func, x, axis, keepdims, xp):
    x = xp.tensor(x)
    return xp.cast(xp.out(reduce(x, axis=check_axis(func, axis, x.ndim), keepdims=keepdims)), x.dtype)


@op(shape_rule=rules.reduced("var"), axis=axes, policy=("real", "accumulate-half"))
def var(x, axis=None, keepdims=False, *, xp=NUMPY):
    """Return the population variance of ``x`` over ``axis`` (divides by N).

    Bool and integer inputs are cast to ``floatx()`` first.

    >>> import numpy as np, kbackend as K
    >>> K.var(np.array([[1.0, 3.0], [2.0, 6.0]]), axis=1)
    array([1., 4.])
    """
    return _moment(xp.var, "var", x, axis, keepdims, xp)


@op(shape_rule=rules.reduced("std"), axis=axes, policy=("real", "accumulate-half"))
def std(x, axis=None, keepdims=False, *, xp=NUMPY):
    """Return the population standard deviation of ``x`` over ``axis`` (square root of :func:`var`).

    Bool and integer inputs are cast to ``floatx()`` first.

    >>> import numpy as np, kbackend as K
    >>> K.std(np.array([[1.0, 3.0], [2.0, 6.0]]), axis=1)
    array([1., 2.])
    """
    return _moment(xp.std, "std", x, axis, keepdims, xp)


@op(shape_rule=rules.reduced("mean"), axis=axes, policy=("real", "accumulate-half"))
def mean(x, axis=None, keepdims=False, *, xp=NUMPY):
    """Return the mean of ``x`` over ``axis``; bool and integer inputs are cast to ``floatx()`` first.

    >>> import numpy as np, kbackend as K
    >>> K.mean(np.array([[True, False], [True, True]]), axis=0)
    array([1. , 0.5], dtype=float32)
    """
    return _moment(xp.mean, "mean", x, axis, keepdims, xp)


@op(shape_rule=rules.reduced("any"), axis=axes, policy="bool")
def any(x, axis=None, keepdims=False, *, xp=NUMPY):
    """Return the logical OR of ``x`` (cast to bool) over ``axis``, as a bool tensor.

    >>> import numpy as np, kbackend as K
    >>> K.any(np.array([[0.0, 2.0], [0.0, 0.0]]), axis=1)
    array([ True, False])
    """
    x = xp.tensor(x)
    return xp.out(xp.any(x, axis=check_axis("any", axis, x.ndim), keepdims=keepdims))


@op(shape_rule=rules.reduced("all"), axis=axes, policy="bool")
def all(x, axis=None, keepdims=False, *, xp=NUMPY):
    """Return the logical AND of ``x`` (cast to bool) over ``axis``, as a bool tensor.

    >>> import numpy as np, kbackend as K
    >>> K.all(np.array([[1, 2], [0, 3]]), axis=1)
    array([ True, False])
    """
    x = xp.tensor(x)
    return xp.out(xp.all(x, axis=check_axis("all", axis, x.ndim), keepdims=keepdims))


@op(axis=one_axis, policy="int64")
def argmax(x, axis=-1, *, xp=NUMPY):
    """Return the int64 index of the maximum of ``x`` along ``axis`` (default -1; first one on ties).

    >>> import numpy as np, kbackend as K
    >>> K.argmax(np.array([[1.0, 9.0, 9.0], [4.0, 2.0, 0.0]]))
    array([1, 0])
    """
    x = xp.tensor(x)
    return xp.cast(xp.out(xp.argmax(x, axis=check_axis("argmax", axis, x.ndim))), np.int64)


@op(axis=one_axis, policy="int64")
def argmin(x, axis=-1, *, xp=NUMPY):
    """Return the int64 index of the minimum of ``x`` along ``axis`` (default -1; first one on ties).

    >>> import numpy as np, kbackend as K
    >>> K.argmin(np.array([[1.0, 0.0, 0.0], [4.0, 2.0, 5.0]]))
    array([1, 1])
    """
    x = xp.tensor(x)
    return xp.cast(xp.out(xp.argmin(x, axis=check_axis("argmin", axis, x.ndim))), np.int64)


@op(shape_rule=rules.reduced("logsumexp"), axis=axes, policy=("real", "accumulate-half"))
def logsumexp(x, axis=None, keepdims=False):
    """Return ``log(sum(exp(x)))`` over ``axis``, computed without overflow (shifted by the maximum).

    >>> import numpy as np, kbackend as K
    >>> K.logsumexp(np.array([1e4, 1e-4]))
    array(10000.)
    """
    x = _tensor(x)
    axis = check_axis("logsumexp", axis, x.ndim)
    shift = np.max(x, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=keepdims))
    out = out + (shift if keepdims else np.squeeze(shift, axis=axis))
    return _out(out).astype(x.dtype, copy=False)


# ---------------------------------------------------------------------------------------------------
# elementwise math


@op(shape_rule=rules.unchanged, policy="same")
def square(x, *, xp=NUMPY):
    """Return ``x ** 2`` elementwise, in the dtype of ``x`` (a bool tensor stays bool: ``x * x`` is ``x``).

    >>> import numpy as np, kbackend as K
    >>> K.square(np.array([-3, 2]))
    array([9, 4])
    """
    x = xp.tensor(x)
    return x.copy() if x.dtype == np.bool_ else xp.square(x)  # NumPy's square of bool is int8


@op(shape_rule=rules.unchanged, policy="same")
def abs(x, *, xp=NUMPY):
    """Return the absolute value of ``x`` elementwise.

    >>> import numpy as np, kbackend as K
    >>> K.abs(np.array([-3.5, 2.0]))
    array([3.5, 2. ])
    """
    return xp.abs(xp.tensor(x))


@op(shape_rule=rules.unchanged, policy="real")
def sqrt(x):
    """Return the square root of ``x`` elementwise; negative values are clipped to 0 first (no NaN).

    >>> import numpy as np, kbackend as K
    >>> K.sqrt(np.array([-1.0, 4.0]))
    array([0., 2.])
    """
    x = _tensor(x)
    return np.sqrt(np.maximum(x, x.dtype.type(0)))


@op(shape_rule=rules.unchanged, policy="real")
def exp(x):
    """Return ``e ** x`` elementwise.

    >>> import numpy as np, kbackend as K
    >>> K.exp(np.array([0.0, 1.0]))
    array([1.        , 2.71828183])
    """
    with np.errstate(over="ignore"):
        return np.exp(_tensor(x))


@op(shape_rule=rules.unchanged, policy="real")
def log(x):
    """Return the natural logarithm of ``x`` elementwise (no clipping: ``log(0)`` is ``-inf``).

    >>> import numpy as np, kbackend as K
    >>> K.log(np.array([1.0, 0.0]))
    array([  0., -inf])
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(_tensor(x))


@op(shape_rule=rules.unchanged, policy="same")
def round(x, *, xp=NUMPY):
    """Round ``x`` elementwise to the nearest integer, ties to even (banker's rounding).

    >>> import numpy as np, kbackend as K
    >>> K.round(np.array([0.5, 1.5, 2.5, -0.4]))
    array([ 0.,  2.,  2., -0.])
    """
    return xp.round(xp.tensor(x))


@op(shape_rule=rules.unchanged, policy="same")
def sign(x, *, xp=NUMPY):
    """Return the sign of ``x`` elementwise: -1, 0 or 1.

    >>> import numpy as np, kbackend as K
    >>> K.sign(np.array([-2.0, 0.0, 3.0]))
    array([-1.,  0.,  1.])
    """
    return xp.sign(xp.tensor(x))


@op(shape_rule=rules.broadcast, policy="promote")
def pow(x, a, *, xp=NUMPY):
    """Return ``x ** a`` elementwise; a Python number ``a`` takes the dtype of ``x``.

    Args:
        a: The lower bound.

    >>> import numpy as np, kbackend as K
    >>> K.pow(np.array([1.0, 2.0, 3.0]), 2)
    array([1., 4., 9.])
    """
    return xp.power(xp.value(x), xp.value(a))


#: bool and integer dtypes as NumPy and JAX (dtype objects) and PyTensor (names) spell them.
_INTEGRAL = frozenset(("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"))
_INTEGRAL |= frozenset(np.dtype(name) for name in _INTEGRAL)


def _bound(value, like, xp):
    if _is_number(value):  # a number bound on an integer x takes x's dtype; on a float x it stays weak
        return xp.cast(xp.asarray(value), like.dtype) if like.dtype in _INTEGRAL else value
    return xp.cast(xp.tensor(value), like.dtype)


@op(shape_rule=rules.clipped, policy="same")
def clip(x, min_value, max_value, *, xp=NUMPY):
    """Clip ``x`` elementwise to ``[min_value, max_value]``.

    A bound of None is no bound; bounds may be tensors.  When both bounds are Python numbers and
    ``max_value < min_value``, ``max_value`` is raised to ``min_value``; with tensor bounds the lower
    bound wins where they cross.

    Args:
        min_value: The lower bound (None for none).
        max_value: The upper bound (None for none).

    >>> import numpy as np, kbackend as K
    >>> K.clip(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
    array([0. , 0.5, 1. ])
    """
    x = xp.tensor(x)
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) and max_value < min_value:
        max_value = min_value
    out = x
    if max_value is not None:
        out = xp.minimum(out, _bound(max_value, x, xp))
    if min_value is not None:
        out = xp.maximum(out, _bound(min_value, x, xp))
    return x.copy() if out is x else xp.cast(out, x.dtype)


@op(shape_rule=rules.broadcast, policy="promote")
def maximum(x, y, *, xp=NUMPY):
    """Return the elementwise maximum of ``x`` and ``y`` (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.maximum(np.array([1.0, 4.0]), np.array([3.0, 2.0]))
    array([3., 4.])
    """
    return xp.maximum(xp.value(x), xp.value(y))


@op(shape_rule=rules.broadcast, policy="promote")
def minimum(x, y, *, xp=NUMPY):
    """Return the elementwise minimum of ``x`` and ``y`` (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.minimum(np.array([1.0, 4.0]), 2.0)
    array([1., 2.])
    """
    return xp.minimum(xp.value(x), xp.value(y))


@op(shape_rule=rules.unchanged, policy="real")
def sin(x, *, xp=NUMPY):
    """Return the sine of ``x`` elementwise.

    >>> import numpy as np, kbackend as K
    >>> K.sin(np.array([0.0]))
    array([0.])
    """
    return xp.sin(xp.tensor(x))


@op(shape_rule=rules.unchanged, policy="real")
def cos(x, *, xp=NUMPY):
    """Return the cosine of ``x`` elementwise.

    >>> import numpy as np, kbackend as K
    >>> K.cos(np.array([0.0]))
    array([1.])
    """
    return xp.cos(xp.tensor(x))


# ---------------------------------------------------------------------------------------------------
# comparisons


@op(shape_rule=rules.broadcast, policy=("promote", "bool"))
def equal(x, y, *, xp=NUMPY):
    """Return the bool tensor ``x == y`` elementwise (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.equal(np.array([1.0, 2.0]), 2.0)
    array([False,  True])
    """
    return xp.equal(xp.value(x), xp.value(y))


@op(shape_rule=rules.broadcast, policy=("promote", "bool"))
def not_equal(x, y, *, xp=NUMPY):
    """Return the bool tensor ``x != y`` elementwise (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.not_equal(np.array([1.0, 2.0]), 2.0)
    array([ True, False])
    """
    return xp.not_equal(xp.value(x), xp.value(y))


@op(shape_rule=rules.broadcast, policy=("promote", "bool"))
def greater(x, y, *, xp=NUMPY):
    """Return the bool tensor ``x > y`` elementwise (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.greater(np.array([1.0, 2.0, 3.0]), 2.0)
    array([False, False,  True])
    """
    return xp.greater(xp.value(x), xp.value(y))


@op(shape_rule=rules.broadcast, policy=("promote", "bool"))
def greater_equal(x, y, *, xp=NUMPY):
    """Return the bool tensor ``x >= y`` elementwise (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.greater_equal(np.array([1.0, 2.0, 3.0]), 2.0)
    array([False,  True,  True])
    """
    return xp.greater_equal(xp.value(x), xp.value(y))


@op(shape_rule=rules.broadcast, policy=("promote", "bool"))
def less(x, y, *, xp=NUMPY):
    """Return the bool tensor ``x < y`` elementwise (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.less(np.array([1.0, 2.0, 3.0]), 2.0)
    array([ True, False, False])
    """
    return xp.less(xp.value(x), xp.value(y))


@op(shape_rule=rules.broadcast, policy=("promote", "bool"))
def less_equal(x, y, *, xp=NUMPY):
    """Return the bool tensor ``x <= y`` elementwise (broadcasting).

    >>> import numpy as np, kbackend as K
    >>> K.less_equal(np.array([1.0, 2.0, 3.0]), 2.0)
    array([ True,  True, False])
    """
    return xp.less_equal(xp.value(x), xp.value(y))


# ---------------------------------------------------------------------------------------------------
# linear algebra


@op(shape_rule=rules.dot, policy=("promote", "accumulate-half"))
def dot(x, y):
    """Return the matrix product of ``x`` and ``y``, with NumPy's ``dot`` rules for N-D inputs.

    The last axis of ``x`` is contracted with the second-to-last axis of ``y`` (the last one if ``y``
    is 1-D): the output shape is ``x.shape[:-1] + y.shape[:-2] + y.shape[-1:]``.  A sparse ``x`` is
    multiplied sparse-dense.

    >>> import numpy as np, kbackend as K
    >>> K.dot(np.ones((2, 3)), np.ones((4, 3, 5))).shape
    (2, 4, 5)
    """
    if is_scipy_sparse(x):
        return np.asarray(x @ _tensor(y))
    return _out(np.dot(_tensor(x), _tensor(y)))


def batch_axes(axes):
    """Canonicaliser of ``batch_dot``'s ``axes``: None, or a pair of ints (an int ``n`` is ``(n, n)``)."""
    if axes is None:
        return None
    if axes.__class__ is int:
        return (axes, axes)
    if axes.__class__ is tuple and len(axes) == 2 and axes[0].__class__ is int and axes[1].__class__ is int:
        return axes
    if isinstance(axes, numbers.Integral) and not isinstance(axes, bool):
        return (int(axes), int(axes))
    if isinstance(axes, (list, tuple)):
        if builtins.any(isinstance(a, (list, tuple)) for a in axes):
            raise ArgError("None, an int or a pair of ints (multiple target dimensions are not supported)")
        if len(axes) != 2:
            raise ArgError("None, an int or a pair of ints")
        if builtins.all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axes):
            return (int(axes[0]), int(axes[1]))
    raise ArgError("None, an int or a pair of ints", TypeError)


#: ``axes`` of a 2-D batch_dot that contract the last axis of both inputs.
_LAST_AXES = frozenset((None, (1, 1), (1, -1), (-1, 1), (-1, -1)))
_EINSUM_DTYPES = frozenset(np.dtype(name) for name in ("float32", "float64", "int32", "int64"))


@op(shape_rule=rules.batch_dot, axes=batch_axes, policy=("promote", "accumulate-half"))
def batch_dot(x, y, axes=None):
    """Return the dot product of each sample of ``x`` with the same sample of ``y`` (batch axis 0).

    ``axes`` names the contracted axis of each input: an int (the same for both), a pair, or None
    for ``(x.ndim - 1, y.ndim - 1)`` when ``y`` is 2-D and ``(x.ndim - 1, y.ndim - 2)`` otherwise.
    Negative axes count from the end; axis 0 is refused.  The output shape is ``(batch,)``, then the
    remaining axes of ``x``, then those of ``y`` past the batch axis; ``(batch, 1)`` when nothing else
    remains (two 2-D inputs).

    Args:
        axes: The axes to contract: an int or a pair of ints.

    >>> import numpy as np, kbackend as K
    >>> K.batch_dot(np.ones((4, 2, 3)), np.ones((4, 5, 3)), axes=(2, 2)).shape
    (4, 2, 5)
    """
    a, b = _tensor(x), _tensor(y)
    if axes in _LAST_AXES and a.ndim == 2 and a.shape == b.shape and a.dtype == b.dtype and \
            a.dtype in _EINSUM_DTYPES:
        return np.einsum("ij,ij->i", a, b)[:, None]  # two batches of vectors: one pass, no reshapes
    ax, ay = batch_dot_axes(a.shape, b.shape, axes)
    a = np.moveaxis(a, ax, -1)
    b = np.moveaxis(b, ay, 1)
    batch, depth = a.shape[0], a.shape[-1]
    x_rest, y_rest = a.shape[1:-1], b.shape[2:]
    out = np.matmul(a.reshape(batch, math.prod(x_rest), depth), b.reshape(batch, depth, math.prod(y_rest)))
    shape = (batch,) + x_rest + y_rest
    return out.reshape(shape if len(shape) > 1 else (batch, 1))


@op(shape_rule=rules.transpose, policy="same")
def transpose(x, *, xp=NUMPY):
    """Return ``x`` with the order of all its axes reversed.

    >>> import numpy as np, kbackend as K
    >>> K.transpose(np.array([[1, 2, 3], [4, 5, 6]]))
    array([[1, 4],
           [2, 5],
           [3, 6]])
    """
    return xp.transpose(xp.owned(x))
