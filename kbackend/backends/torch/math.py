"""Reductions, elementwise math, comparisons and linear algebra on torch.

Axis errors are checked only after torch refuses an axis (``check_axis`` then raises the reference's
message), so valid calls pay nothing for validation.  The dtype policy is applied before these run
(kbackend.dtypes.POLICY): operands of binary ops already share a dtype, or one is a Python number that
takes the tensor's dtype (torch's own rule for scalars of the same kind).

torch's API does not mirror NumPy's (``dim``/``keepdim``, ``amax``, ``clamp``), so the reference bodies
are not bound here; the one-line makers below are its rename table, each converting a non-tensor once.
"""

import math as _math

import torch

from ...ops.math import batch_dot_axes, check_axis
from .variables import Tensor, Variable, to_tensor


def _weak(number, like):
    """A Python number as a tensor of ``like``'s dtype (the policy made sure it fits)."""
    return torch.tensor(number, dtype=like.dtype, device=like.device)


def _is_number(value):
    return isinstance(value, (int, float))


def _operands(x, y):
    """Both operands of a binary op as tensors; a Python number takes the other operand's dtype."""
    if _is_number(y) and not _is_number(x):
        x = to_tensor(x)
        return x, _weak(y, x)
    if _is_number(x) and not _is_number(y):
        y = to_tensor(y)
        return _weak(x, y), y
    return to_tensor(x), to_tensor(y)


def _no_axis(x):
    """``x`` with a new leading axis of size 1: reducing it (keepdims False) reduces over no axis, which
    returns the input as NumPy and TensorFlow do for ``axis=[]`` (torch reads ``dim=()`` as every axis)."""
    return x.unsqueeze(0)


def _bad_axis(func, axis, x):
    """Raise the reference's error when ``axis`` does not fit ``x`` (called after torch refused it)."""
    check_axis(func, axis, x.dim())


def _reduced(func, reduce, x, axis, *args, **kwargs):
    """``reduce(x, axis, ...)``; an ``axis`` torch refuses raises the reference's error instead."""
    try:
        return reduce(x, axis, *args, **kwargs)
    except (IndexError, RuntimeError):
        _bad_axis(func, axis, x)
        raise


def _reduction_input(x, axis, keepdims, bool_as=None):
    """``x`` as a tensor (a bool one as ``bool_as`` when given) with ``axis`` and ``keepdims``, where
    ``axis=()`` reduces over a new unit axis (see :func:`_no_axis`)."""
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if bool_as is not None and x.dtype is torch.bool:
        x = x.to(bool_as)
    if axis == ():
        return _no_axis(x), 0, False
    return x, axis, keepdims


# ---------------------------------------------------------------------------------------------------
# reductions


# The common call (a tensor, an int or tuple axis or None) goes straight to torch inside a try: the
# shared helpers above cost ~0.3 µs a call, and every Keras loss and metric reduces.


def _extremum(func, reduce):
    def impl(x, axis=None, keepdims=False):
        if x.__class__ is not Tensor or axis == ():
            x, axis, keepdims = _reduction_input(x, axis, keepdims)
        try:
            return reduce(x, () if axis is None else axis, keepdims)
        except (IndexError, RuntimeError):
            _bad_axis(func, axis, x)
            raise

    impl.__name__ = func
    return impl


max = _extremum("max", torch.amax)
min = _extremum("min", torch.amin)


def sum(x, axis=None, keepdims=False):
    if x.__class__ is not Tensor or axis == ():
        x, axis, keepdims = _reduction_input(x, axis, keepdims)
    try:
        if x.is_floating_point() or x.dtype is torch.bool:
            return torch.sum(x, axis, keepdims)
        return torch.sum(x, axis, keepdims, dtype=x.dtype)
    except (IndexError, RuntimeError):
        _bad_axis("sum", axis, x)
        raise


# torch: an int keeps its dtype (torch widens to int64); a tuple axis reduced one axis at a time
def prod(x, axis=None, keepdims=False):
    if x.__class__ is not Tensor or x.dtype is torch.bool:
        x = _reduction_input(x, None, keepdims, torch.int64)[0]
    if axis.__class__ is int:
        try:
            if x.is_floating_point():
                return torch.prod(x, axis, keepdims)
            return torch.prod(x, axis, keepdims, dtype=x.dtype)  # torch would widen int32 to int64
        except (IndexError, RuntimeError):
            _bad_axis("prod", axis, x)
            raise
    dtype = x.dtype
    if axis is None:
        out = torch.prod(x, dtype=dtype)
        if keepdims:
            out = out.reshape((1,) * x.dim())
        return out
    axes = check_axis("prod", axis, x.dim())
    out = x
    for a in sorted(axes, reverse=True):
        out = torch.prod(out, a, keepdim=True, dtype=dtype)
    return out if keepdims else out.squeeze(axes)


def _cumulative(func, accumulate):
    def impl(x, axis=0):
        x = _reduction_input(x, None, False, torch.int64)[0]
        return _reduced(func, accumulate, x, axis, dtype=x.dtype)

    impl.__name__ = func
    return impl


cumsum = _cumulative("cumsum", torch.cumsum)
cumprod = _cumulative("cumprod", torch.cumprod)


def _moment(func, reduce):
    def impl(x, axis=None, keepdims=False):
        if x.__class__ is not Tensor or axis == ():
            x, axis, keepdims = _reduction_input(x, axis, keepdims)
        try:
            return reduce(x, axis, keepdims)
        except (IndexError, RuntimeError):
            _bad_axis(func, axis, x)
            raise

    impl.__name__ = func
    return impl


var = _moment("var", lambda x, axis, keepdims: torch.var(x, dim=axis, correction=0, keepdim=keepdims))
std = _moment("std", lambda x, axis, keepdims: torch.std(x, dim=axis, correction=0, keepdim=keepdims))
mean = _moment("mean", torch.mean)


def _logical(func, reduce):
    def impl(x, axis=None, keepdims=False):
        x = x if x.__class__ is Tensor else to_tensor(x)
        if x.dtype is torch.uint8:
            x = x.to(torch.bool)  # torch's any/all keep uint8 for uint8 inputs
        return _reduced(func, reduce, *_reduction_input(x, axis, keepdims))

    impl.__name__ = func
    return impl


any = _logical("any", torch.any)
all = _logical("all", torch.all)


def _arg(func, reduce):
    def impl(x, axis=-1):
        return _reduced(func, reduce, _reduction_input(x, None, False, torch.uint8)[0], axis)

    impl.__name__ = func
    return impl


argmax = _arg("argmax", torch.argmax)
argmin = _arg("argmin", torch.argmin)


def _logsumexp(x, axis, keepdims):
    return torch.logsumexp(x, dim=tuple(range(x.dim())) if axis is None else axis, keepdim=keepdims)


# torch: torch.logsumexp reduces no axis for dim=(); every axis is spelled out
def logsumexp(x, axis=None, keepdims=False):
    return _reduced("logsumexp", _logsumexp, *_reduction_input(x, axis, keepdims))


# ---------------------------------------------------------------------------------------------------
# elementwise math


def _unary(func, fn):
    def impl(x):
        return fn(x if x.__class__ is Tensor else to_tensor(x))

    impl.__name__ = func
    return impl


square = _unary("square", lambda x: x.clone() if x.dtype is torch.bool else torch.square(x))  # bool stays bool
abs = _unary("abs", torch.abs)
round = _unary("round", torch.round)
sign = _unary("sign", lambda x: torch.where(torch.isnan(x), x, torch.sign(x)) if x.is_floating_point()
              else torch.sign(x))  # torch.sign(nan) is 0; NumPy and TensorFlow keep NaN
exp = _unary("exp", torch.exp)
log = _unary("log", torch.log)
sin = _unary("sin", torch.sin)
cos = _unary("cos", torch.cos)
sqrt = _unary("sqrt", lambda x: torch.sqrt(torch.clamp_min(x, 0)))


# torch: a tensor with a tensor or a number goes straight to torch.pow
def pow(x, a):
    if x.__class__ is Tensor and (a.__class__ is Tensor or _is_number(a)):
        return torch.pow(x, a)
    return torch.pow(*_operands(x, a))


def _bound(value, like):
    if _is_number(value):
        return _weak(value, like)
    value = to_tensor(value, like.device)
    return value if value.dtype is like.dtype else value.to(like.dtype)


# torch: number bounds go to torch.clamp; tensor bounds cast to x's dtype, the lower winning
def clip(x, min_value, max_value):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    low_number, high_number = _is_number(min_value), _is_number(max_value)
    if low_number and high_number:
        if max_value < min_value:
            max_value = min_value
        if x.is_floating_point() or min_value.__class__ is int and max_value.__class__ is int:
            out = torch.clamp(x, min_value, max_value)
            return out if out.dtype is x.dtype else out.to(x.dtype)  # clamp of bool gives int64
    out = x
    if max_value is not None:
        out = torch.minimum(out, _bound(max_value, x))
    if min_value is not None:
        out = torch.maximum(out, _bound(min_value, x))
    if out is x:
        return x.clone()
    return out if out.dtype is x.dtype else out.to(x.dtype)


def _binary(func, fn, tensor_number, number_tensor, takes_number=lambda tensor: True):
    """A binary op: two tensors go to ``fn``; a tensor and a Python number that ``takes_number(tensor)``
    allows go to ``tensor_number(tensor, number)``, or ``number_tensor(tensor, number)`` when the number
    comes first, which take the number as it is; anything else goes to ``fn`` as tensors."""

    def impl(x, y):
        if x.__class__ is Tensor:
            if y.__class__ is Tensor:
                return fn(x, y)
            if _is_number(y) and takes_number(x):
                return tensor_number(x, y)
        elif y.__class__ is Tensor and _is_number(x) and takes_number(y):
            return number_tensor(y, x)
        return fn(*_operands(x, y))

    impl.__name__ = func
    return impl


def _not_bool(tensor):
    return tensor.dtype is not torch.bool  # torch has no bool clamp


# maximum / minimum: a Python number bound goes to torch's clamp.
maximum = _binary("maximum", torch.maximum, torch.clamp_min, torch.clamp_min, _not_bool)
minimum = _binary("minimum", torch.minimum, torch.clamp_max, torch.clamp_max, _not_bool)


def _comparison(func, fn, mirrored):
    """A comparison; a Python number is passed to torch as it is (the result is bool either way)."""
    return _binary(func, fn, fn, mirrored)


equal = _comparison("equal", torch.eq, torch.eq)
not_equal = _comparison("not_equal", torch.ne, torch.ne)
greater = _comparison("greater", torch.gt, torch.lt)
greater_equal = _comparison("greater_equal", torch.ge, torch.le)
less = _comparison("less", torch.lt, torch.gt)
less_equal = _comparison("less_equal", torch.le, torch.ge)


# ---------------------------------------------------------------------------------------------------
# linear algebra


# torch: Keras 2's N-D dot through tensordot; sparse x through torch.sparse.mm
def dot(x, y):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if y.__class__ is not Tensor:
        y = to_tensor(y, x.device)
    if x.layout is not torch.strided:
        return torch.sparse.mm(x, y)
    if y.dim() <= 2 or x.dim() == 1:
        return torch.matmul(x, y)
    return torch.tensordot(x, y, ([-1], [-2]))


# torch: the contracted axes moved next to the batch, then one bmm
def batch_dot(x, y, axes=None):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if y.__class__ is not Tensor:
        y = to_tensor(y, x.device)
    ax, ay = batch_dot_axes(tuple(x.shape), tuple(y.shape), axes)
    a = torch.movedim(x, ax, -1)
    b = torch.movedim(y, ay, 1)
    batch, depth = a.shape[0], a.shape[-1]
    x_rest, y_rest = tuple(a.shape[1:-1]), tuple(b.shape[2:])
    out = torch.bmm(a.reshape(batch, _math.prod(x_rest), depth), b.reshape(batch, depth, _math.prod(y_rest)))
    shape = (batch,) + x_rest + y_rest
    return out.reshape(shape if len(shape) > 1 else (batch, 1))


_REVERSED = [tuple(range(n - 1, -1, -1)) for n in range(8)]


# torch: a permuted view, copied when x is a variable
def transpose(x):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    n = x.dim()
    out = x.permute(_REVERSED[n] if n < 8 else tuple(range(n - 1, -1, -1)))
    return out.clone() if x.__class__ is Variable else out
