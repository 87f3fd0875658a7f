"""Reductions, elementwise math, comparisons and linear algebra on JAX.

Python numbers stay weakly typed, so ``op(tensor, 2.0)`` keeps the tensor's dtype, as the reference
rules ask; integer reductions pass ``dtype`` so JAX does not widen them.
"""

import jax
import jax.numpy as jnp
from jax import lax

from ... import config
from ...ops.math import batch_dot_axes, check_axis
from .arrays import ArrayImpl, always_x64, cast, is_tracer, jax_dtype, precision, to_jax, x64_enabled

_HALF = frozenset((jnp.dtype(jnp.float16), jnp.dtype(jnp.bfloat16)))
_BOOL = jnp.dtype(bool)
_NOT_FLOAT = frozenset(jnp.dtype(d) for d in (bool, "int8", "int16", "int32", "int64", "uint8", "uint16",
                                              "uint32", "uint64"))
_INTEGER = _NOT_FLOAT - {_BOOL}
_FLOAT32 = jnp.dtype(jnp.float32)
_FULL_FLOATS = frozenset((_FLOAT32, jnp.dtype(jnp.float64)))


def _floating(x):
    """``x`` with bool and integer values cast to ``floatx()``."""
    if x.dtype in _NOT_FLOAT:
        return x.astype(jax_dtype(config._floatx))
    return x


def _wide(x):
    return x.astype(_FLOAT32) if x.dtype in _HALF else x


def _int64_sum(reduce, x, **kwargs):
    """NumPy sums bool values into int64 (the reference's rule); JAX needs x64 for that."""
    if x64_enabled():
        return reduce(x, dtype=jnp.int64, **kwargs)
    if is_tracer(x):  # a trace begun outside the 64-bit scope cannot take int64 values
        return reduce(x, dtype=jnp.int32, **kwargs)
    with jax.enable_x64(True):
        return reduce(x, dtype=jnp.int64, **kwargs)


def _accumulate(reduce, x, **kwargs):
    dtype = x.dtype
    if dtype in _FULL_FLOATS:
        return reduce(x, **kwargs)
    if dtype in _INTEGER:
        return reduce(x, dtype=dtype, **kwargs)
    if dtype == _BOOL:
        return _int64_sum(reduce, x, **kwargs)
    if dtype in _HALF:
        return reduce(x.astype(_FLOAT32), **kwargs).astype(dtype)
    return reduce(x, **kwargs)


# ---------------------------------------------------------------------------------------------------
# reductions


def max(x, axis=None, keepdims=False):
    x = to_jax(x)
    return jnp.max(x, axis=check_axis("max", axis, x.ndim), keepdims=keepdims)


def min(x, axis=None, keepdims=False):
    x = to_jax(x)
    return jnp.min(x, axis=check_axis("min", axis, x.ndim), keepdims=keepdims)


def sum(x, axis=None, keepdims=False):
    x = to_jax(x)
    return _accumulate(jnp.sum, x, axis=check_axis("sum", axis, x.ndim), keepdims=keepdims)


def prod(x, axis=None, keepdims=False):
    x = to_jax(x)
    return _accumulate(jnp.prod, x, axis=check_axis("prod", axis, x.ndim), keepdims=keepdims)


def cumsum(x, axis=0):
    x = to_jax(x)
    return _accumulate(jnp.cumsum, x, axis=check_axis("cumsum", axis, x.ndim))


def cumprod(x, axis=0):
    x = to_jax(x)
    return _accumulate(jnp.cumprod, x, axis=check_axis("cumprod", axis, x.ndim))


def _moment(reduce, func, x, axis, keepdims):
    x = _floating(to_jax(x))
    axis = check_axis(func, axis, x.ndim)
    return cast(reduce(_wide(x), axis=axis, keepdims=keepdims), x.dtype)


def var(x, axis=None, keepdims=False):
    return _moment(jnp.var, "var", x, axis, keepdims)


def std(x, axis=None, keepdims=False):
    return _moment(jnp.std, "std", x, axis, keepdims)


def mean(x, axis=None, keepdims=False):
    return _moment(jnp.mean, "mean", x, axis, keepdims)


def any(x, axis=None, keepdims=False):
    x = to_jax(x)
    return jnp.any(x, axis=check_axis("any", axis, x.ndim), keepdims=keepdims)


def all(x, axis=None, keepdims=False):
    x = to_jax(x)
    return jnp.all(x, axis=check_axis("all", axis, x.ndim), keepdims=keepdims)


@always_x64
def argmax(x, axis=-1):
    x = to_jax(x)
    return cast(jnp.argmax(x, axis=check_axis("argmax", axis, x.ndim)), jnp.int64)


@always_x64
def argmin(x, axis=-1):
    x = to_jax(x)
    return cast(jnp.argmin(x, axis=check_axis("argmin", axis, x.ndim)), jnp.int64)


def logsumexp(x, axis=None, keepdims=False):
    x = _floating(to_jax(x))
    axis = check_axis("logsumexp", axis, x.ndim)
    return cast(jax.nn.logsumexp(_wide(x), axis=axis, keepdims=keepdims), x.dtype)


# ---------------------------------------------------------------------------------------------------
# elementwise math


def square(x):
    x = to_jax(x)
    return x if x.dtype == jnp.bool_ else jnp.square(x)  # bool stays bool (jnp.square gives int32)


def abs(x):
    return jnp.abs(to_jax(x))


@jax.jit
def _sqrt(x):
    """``sqrt(max(x, 0))`` whose gradient is 0, not NaN, where ``x <= 0`` (NaN stays NaN)."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1)), jnp.maximum(x, 0))


def sqrt(x):
    return _sqrt(_floating(to_jax(x)))


def exp(x):
    return jnp.exp(_floating(to_jax(x)))


def log(x):
    return jnp.log(_floating(to_jax(x)))


def round(x):
    return jnp.round(to_jax(x))


def sign(x):
    return jnp.sign(to_jax(x))


def _is_number(value):
    cls = value.__class__
    return cls is float or cls is int


def _operands(x, y):
    """Tensors for both operands; a lone Python number stays weakly typed (takes the other's dtype)."""
    if _is_number(y) and not _is_number(x):
        return to_jax(x), y
    if _is_number(x) and not _is_number(y):
        return x, to_jax(y)
    return to_jax(x), to_jax(y)


def pow(x, a):
    return jnp.power(*_operands(x, a))


def _bound(value, like):
    if _is_number(value):
        return value
    return cast(to_jax(value), like.dtype)


def clip(x, min_value, max_value):
    x = to_jax(x)
    if _is_number(min_value) and _is_number(max_value) and max_value < min_value:
        max_value = min_value
    out = x
    if max_value is not None:
        out = jnp.minimum(out, _bound(max_value, x))
    if min_value is not None:
        out = jnp.maximum(out, _bound(min_value, x))
    return cast(out, x.dtype)


def maximum(x, y):
    return jnp.maximum(*_operands(x, y))


def minimum(x, y):
    return jnp.minimum(*_operands(x, y))


def sin(x):
    return jnp.sin(_floating(to_jax(x)))


def cos(x):
    return jnp.cos(_floating(to_jax(x)))


# ---------------------------------------------------------------------------------------------------
# comparisons


def equal(x, y):
    return jnp.equal(*_operands(x, y))


def not_equal(x, y):
    return jnp.not_equal(*_operands(x, y))


def greater(x, y):
    return jnp.greater(*_operands(x, y))


def greater_equal(x, y):
    return jnp.greater_equal(*_operands(x, y))


def less(x, y):
    return jnp.less(*_operands(x, y))


def less_equal(x, y):
    return jnp.less_equal(*_operands(x, y))


# ---------------------------------------------------------------------------------------------------
# linear algebra


def _product_dtype(a, b):
    return a.dtype if a.dtype == b.dtype else jnp.result_type(a, b)


def _dense(x):
    if type(x).__module__.startswith("scipy.sparse"):
        return jnp.asarray(x.toarray())
    return to_jax(x)


def dot(x, y):
    a = x if x.__class__ is ArrayImpl else _dense(x)
    b = to_jax(y)
    if a.dtype == b.dtype and a.dtype in _FULL_FLOATS:
        return jnp.dot(a, b, precision=precision())
    return cast(jnp.dot(_wide(a), _wide(b), precision=precision()), _product_dtype(a, b))


def batch_dot(x, y, axes=None):
    a, b = to_jax(x), to_jax(y)
    ax, ay = batch_dot_axes(a.shape, b.shape, axes)
    dtype = _product_dtype(a, b)
    a, b = _wide(cast(a, dtype)), _wide(cast(b, dtype))
    out = lax.dot_general(a, b, (((ax,), (ay,)), ((0,), (0,))), precision=precision())
    if out.ndim == 1:
        out = out.reshape((out.shape[0], 1))
    return cast(out, dtype)


def transpose(x):
    return jnp.transpose(to_jax(x))
