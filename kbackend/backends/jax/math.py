"""Reductions, elementwise math, comparisons and linear algebra on JAX.

The dtype policy is applied before these run (kbackend.dtypes.POLICY); Python numbers stay weakly typed
in JAX, so ``op(tensor, 2.0)`` keeps the tensor's dtype; integer reductions pass ``dtype`` so JAX does
not widen them.
"""

import jax
import jax.numpy as jnp
from jax import lax

from ...ops.math import batch_dot_axes, check_axis
from ...sparse import is_scipy_sparse
from .arrays import ArrayImpl, always_x64, cast, is_tracer, precision, to_jax, x64_enabled

_BOOL = jnp.dtype(bool)


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
    if dtype.kind in "iu":
        return reduce(x, dtype=dtype, **kwargs)
    if dtype == _BOOL:
        return _int64_sum(reduce, x, **kwargs)
    return reduce(x, **kwargs)


# ---------------------------------------------------------------------------------------------------
# reductions


# jax: bool sums to int64 as in NumPy, which needs the 64-bit scope; ints keep their dtype
def sum(x, axis=None, keepdims=False):
    x = to_jax(x)
    return _accumulate(jnp.sum, x, axis=check_axis("sum", axis, x.ndim), keepdims=keepdims)


# jax: as sum, an int keeps its dtype and bool gives int64
def prod(x, axis=None, keepdims=False):
    x = to_jax(x)
    return _accumulate(jnp.prod, x, axis=check_axis("prod", axis, x.ndim), keepdims=keepdims)


# jax: as sum
def cumsum(x, axis=0):
    x = to_jax(x)
    return _accumulate(jnp.cumsum, x, axis=check_axis("cumsum", axis, x.ndim))


# jax: as sum
def cumprod(x, axis=0):
    x = to_jax(x)
    return _accumulate(jnp.cumprod, x, axis=check_axis("cumprod", axis, x.ndim))


# jax: the int64 result needs the 64-bit scope (always_x64)
@always_x64
def argmax(x, axis=-1):
    x = to_jax(x)
    return cast(jnp.argmax(x, axis=check_axis("argmax", axis, x.ndim)), jnp.int64)


# jax: as argmax
@always_x64
def argmin(x, axis=-1):
    x = to_jax(x)
    return cast(jnp.argmin(x, axis=check_axis("argmin", axis, x.ndim)), jnp.int64)


# jax: jax.nn's kernel (its gradient stops at the shift)
def logsumexp(x, axis=None, keepdims=False):
    x = to_jax(x)
    return jax.nn.logsumexp(x, axis=check_axis("logsumexp", axis, x.ndim), keepdims=keepdims)


# ---------------------------------------------------------------------------------------------------
# elementwise math


@jax.jit
def _sqrt(x):
    """``sqrt(max(x, 0))`` whose gradient is 0, not NaN, where ``x <= 0`` (NaN stays NaN)."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1)), jnp.maximum(x, 0))


# jax: where-guarded so that the gradient at x <= 0 is 0, not NaN
def sqrt(x):
    return _sqrt(to_jax(x))


def exp(x):
    return jnp.exp(to_jax(x))


def log(x):
    return jnp.log(to_jax(x))


# ---------------------------------------------------------------------------------------------------
# linear algebra


def _dense(x):
    if is_scipy_sparse(x):
        return jnp.asarray(x.toarray())
    return to_jax(x)


# jax: scipy sparse input densified; full float32 precision on accelerators
def dot(x, y):
    a = x if x.__class__ is ArrayImpl else _dense(x)
    return jnp.dot(a, to_jax(y), precision=precision())


# jax: one lax.dot_general over the batch at full float32 precision
def batch_dot(x, y, axes=None):
    a, b = to_jax(x), to_jax(y)
    ax, ay = batch_dot_axes(a.shape, b.shape, axes)
    out = lax.dot_general(a, b, (((ax,), (ay,)), ((0,), (0,))), precision=precision())
    return out.reshape((out.shape[0], 1)) if out.ndim == 1 else out
