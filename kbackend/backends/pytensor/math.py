"""Reductions, elementwise math, comparisons and linear algebra on PyTensor.

Output dtypes follow the reference: each eager op and each traced node is cast to the dtype the
NumPy reference gives (see :mod:`.arrays`), so only values are computed here.
"""

import numpy as np
import pytensor.tensor as pt

from ...ops.math import batch_dot_axes, check_axis
from ...sparse import is_scipy_sparse
from .arrays import as_type, is_graph, is_number, to_pt


def _axis(func, axis, x):
    return check_axis(func, axis, x.ndim)


def _accumulate(reduce, func, x, axis, keepdims=None):
    x = to_pt(x)
    axis = _axis(func, axis, x)
    kwargs = {} if keepdims is None else {"keepdims": keepdims}
    if x.dtype == "bool":
        return reduce(as_type(x, "int64"), axis=axis, **kwargs)
    if x.dtype.startswith(("int", "uint")):  # in int64: PyTensor's cumsum/cumprod return int64 whatever the type says
        return as_type(reduce(as_type(x, "int64"), axis=axis, **kwargs), x.dtype)
    return as_type(reduce(x, axis=axis, **kwargs), x.dtype)


# pytensor: bool sums in int64 and an int keeps its dtype (PyTensor's cumsum/cumprod give int64)
def sum(x, axis=None, keepdims=False):
    return _accumulate(pt.sum, "sum", x, axis, keepdims)


# pytensor: as sum
def prod(x, axis=None, keepdims=False):
    return _accumulate(pt.prod, "prod", x, axis, keepdims)


# pytensor: as sum
def cumsum(x, axis=0):
    return _accumulate(pt.cumsum, "cumsum", x, axis)


# pytensor: as sum
def cumprod(x, axis=0):
    return _accumulate(pt.cumprod, "cumprod", x, axis)


# pytensor: the shift is a stopped gradient and an infinite maximum shifts by 0
def logsumexp(x, axis=None, keepdims=False):
    x = to_pt(x)
    axis = _axis("logsumexp", axis, x)
    shift = pt.max(x, axis=axis, keepdims=True)
    shift = pt.switch(pt.isinf(shift), 0, pt.stop_gradient(shift)) if hasattr(pt, "stop_gradient") else \
        pt.switch(pt.isinf(shift), 0, shift)
    out = pt.log(pt.sum(pt.exp(x - shift), axis=axis, keepdims=True)) + shift
    if not keepdims:
        out = out.squeeze(axis) if axis is not None else out.reshape(())
    return as_type(out, x.dtype)


def _unary(name, fn):
    def impl(x):
        return fn(to_pt(x))

    impl.__name__ = name
    return impl


def _sqrt(x):
    # sqrt(max(x, 0)) whose gradient is 0, not inf/NaN, where x <= 0
    positive = pt.gt(x, 0)
    return pt.switch(positive, pt.sqrt(pt.switch(positive, x, 1)), pt.maximum(x, 0))


def _round(x):
    return pt.round(x, mode="half_to_even") if x.dtype.startswith("float") else x


# pytensor: sqrt is where-guarded (gradient 0 at x <= 0); round ties to even, as NumPy; exp/log are renames
sqrt, exp, log, round = _unary("sqrt", _sqrt), _unary("exp", pt.exp), _unary("log", pt.log), _unary("round", _round)


def _operands(x, y):
    """Graph values for both operands; a lone Python number (the policy made it fit) becomes a constant
    of the other operand's dtype (PyTensor would otherwise type it by its own rules)."""
    if is_number(y) and not is_number(x):
        a = to_pt(x)
        return a, pt.constant(np.asarray(y, dtype=a.dtype))
    if is_number(x) and not is_number(y):
        b = to_pt(y)
        return pt.constant(np.asarray(x, dtype=b.dtype)), b
    return to_pt(x), to_pt(y)


# pytensor: float16/32 computed in float64 (PyTensor's float32 pow is 1 ulp off NumPy's)
def pow(x, a):
    base, exponent = _operands(x, a)
    dtype = (base if is_graph(base) else exponent).dtype
    if dtype in ("float16", "float32"):  # PyTensor's float32 pow is 1 ulp off NumPy's; compute in float64
        return as_type(pt.pow(as_type(to_pt(base), "float64"), as_type(to_pt(exponent), "float64")), dtype)
    return pt.pow(base, exponent)


def _binary(name, fn):
    def impl(x, y):
        return fn(*_operands(x, y))

    impl.__name__ = name
    return impl


# pytensor: a Python number operand takes the other operand's dtype (PyTensor would type it by its own rules)
maximum, minimum = _binary("maximum", pt.maximum), _binary("minimum", pt.minimum)
equal, not_equal = _binary("equal", pt.eq), _binary("not_equal", pt.neq)
greater, greater_equal = _binary("greater", pt.gt), _binary("greater_equal", pt.ge)
less, less_equal = _binary("less", pt.lt), _binary("less_equal", pt.le)


def _dense(x):
    if is_scipy_sparse(x):
        return to_pt(x.toarray())
    return to_pt(x)


# pytensor: Keras 2's N-D dot through tensordot; scipy sparse input densified
def dot(x, y):
    a, b = _dense(x), to_pt(y)
    if a.ndim > 2 or b.ndim > 2:
        # Keras 2's N-D dot: contract the last axis of x with the second-to-last of y
        return pt.tensordot(a, b, axes=[[a.ndim - 1], [b.ndim - 2 if b.ndim > 1 else 0]])
    return pt.dot(a, b)


# pytensor: the contracted axes moved next to the batch, then one batched matmul
def batch_dot(x, y, axes=None):
    a, b = to_pt(x), to_pt(y)
    ax, ay = batch_dot_axes(a.type.shape, b.type.shape, axes)
    # move the contracted axes last / first after the batch, then one batched product
    a_rest = [i for i in range(1, a.ndim) if i != ax]
    b_rest = [i for i in range(1, b.ndim) if i != ay]
    left = a.dimshuffle([0] + a_rest + [ax])
    right = b.dimshuffle([0, ay] + b_rest)
    batch = left.shape[0]
    l2 = left.reshape((batch, -1, left.shape[-1])) if a_rest else left.reshape((batch, 1, left.shape[-1]))
    r2 = right.reshape((batch, right.shape[1], -1)) if b_rest else right.reshape((batch, right.shape[1], 1))
    out = pt.matmul(l2, r2)
    out_shape = [batch] + [a.shape[i] for i in a_rest] + [b.shape[i] for i in b_rest]
    out = out.reshape(out_shape, ndim=len(out_shape))
    if out.ndim == 1:
        out = out.reshape((batch, 1), ndim=2)
    return out
