"""Reductions, elementwise math, comparisons and linear algebra on torch.

Axis errors are checked only after torch refuses an axis (``check_axis`` then raises the reference's
message), so valid calls pay nothing for validation.
"""

import math as _math

import numpy as np
import torch

from ... import config
from ...dtypes import canonical_dtype, numpy_dtype, promote
from ...ops.math import batch_dot_axes, check_axis
from .variables import DTYPES, NAMES, Tensor, Variable, to_tensor

_HALVES = (torch.float16, torch.bfloat16)
_float32 = torch.float32


def _floating(x):
    """``x`` with bool and integer values cast to ``floatx()``."""
    if x.is_floating_point():
        return x
    return x.to(DTYPES[config._floatx])


def _weak(number, like):
    """A Python number meeting tensor ``like``: it takes ``like``'s dtype, except a float against an
    integer tensor, which NumPy (the reference) promotes to float64."""
    if isinstance(number, float) and not (like.is_floating_point() or like.is_complex()):
        return torch.tensor(number, dtype=torch.float64, device=like.device)
    if like.dtype is torch.bool and number.__class__ is int:  # a bool tensor meets an int: int32 (Keras 2's type)
        return torch.tensor(number, dtype=torch.int32, device=like.device)
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


# ---------------------------------------------------------------------------------------------------
# reductions


def _extremum(func, reduce):
    def impl(x, axis=None, keepdims=False):
        if x.__class__ is not Tensor:
            x = to_tensor(x)
        if axis == ():
            return reduce(_no_axis(x), 0, False)
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
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if axis == ():
        return sum(_no_axis(x), 0, False)
    try:
        if x.is_floating_point() or x.dtype is torch.bool:
            return torch.sum(x, axis, keepdims)
        return torch.sum(x, axis, keepdims, dtype=x.dtype)
    except (IndexError, RuntimeError):
        _bad_axis("sum", axis, x)
        raise


def prod(x, axis=None, keepdims=False):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if x.dtype is torch.bool:
        x = x.to(torch.int64)
    dtype = x.dtype
    wide = _float32 if dtype in _HALVES else dtype
    if axis is None:
        out = torch.prod(x, dtype=wide)
        if keepdims:
            out = out.reshape((1,) * x.dim())
    elif axis.__class__ is int:
        try:
            out = torch.prod(x, axis, keepdim=keepdims, dtype=wide)
        except (IndexError, RuntimeError):
            _bad_axis("prod", axis, x)
            raise
    else:
        axes = check_axis("prod", axis, x.dim())
        out = x
        for a in sorted(axes, reverse=True):
            out = torch.prod(out, a, keepdim=True, dtype=wide)
        if not keepdims:
            out = out.squeeze(axes)
    return out if out.dtype is dtype else out.to(dtype)


def _cumulative(func, accumulate):
    def impl(x, axis=0):
        if x.__class__ is not Tensor:
            x = to_tensor(x)
        if x.dtype is torch.bool:
            x = x.to(torch.int64)
        dtype = x.dtype
        wide = _float32 if dtype in _HALVES else dtype
        try:
            out = accumulate(x, axis, dtype=wide)
        except (IndexError, RuntimeError):
            _bad_axis(func, axis, x)
            raise
        return out if out.dtype is dtype else out.to(dtype)

    impl.__name__ = func
    return impl


cumsum = _cumulative("cumsum", torch.cumsum)
cumprod = _cumulative("cumprod", torch.cumprod)


def _moment(func, reduce):
    def impl(x, axis=None, keepdims=False):
        if x.__class__ is not Tensor:
            x = to_tensor(x)
        x = _floating(x)
        dtype = x.dtype
        wide = x.to(_float32) if dtype in _HALVES else x
        if axis == ():
            wide, axis, keepdims = _no_axis(wide), 0, False
        try:
            out = reduce(wide, axis, keepdims)
        except (IndexError, RuntimeError):
            _bad_axis(func, axis, x)
            raise
        return out if out.dtype is dtype else out.to(dtype)

    impl.__name__ = func
    return impl


var = _moment("var", lambda x, axis, keepdims: torch.var(x, dim=axis, correction=0, keepdim=keepdims))
std = _moment("std", lambda x, axis, keepdims: torch.std(x, dim=axis, correction=0, keepdim=keepdims))


def mean(x, axis=None, keepdims=False):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if not x.is_floating_point():
        x = x.to(DTYPES[config._floatx])
    if axis == ():
        x, axis, keepdims = _no_axis(x), 0, False
    try:
        return torch.mean(x, axis, keepdims)
    except (IndexError, RuntimeError):
        _bad_axis("mean", axis, x)
        raise


def _logical(func, reduce):
    def impl(x, axis=None, keepdims=False):
        if x.__class__ is not Tensor:
            x = to_tensor(x)
        if x.dtype is torch.uint8:
            x = x.to(torch.bool)  # torch's any/all keep uint8 for uint8 inputs
        if axis == ():
            x, axis, keepdims = _no_axis(x), 0, False
        try:
            return reduce(x, axis, keepdims)
        except (IndexError, RuntimeError):
            _bad_axis(func, axis, x)
            raise

    impl.__name__ = func
    return impl


any = _logical("any", torch.any)
all = _logical("all", torch.all)


def _arg(func, reduce):
    def impl(x, axis=-1):
        if x.__class__ is not Tensor:
            x = to_tensor(x)
        if x.dtype is torch.bool:
            x = x.to(torch.uint8)
        try:
            return reduce(x, axis)
        except (IndexError, RuntimeError):
            _bad_axis(func, axis, x)
            raise

    impl.__name__ = func
    return impl


argmax = _arg("argmax", torch.argmax)
argmin = _arg("argmin", torch.argmin)


def logsumexp(x, axis=None, keepdims=False):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    x = _floating(x)
    if axis == ():
        x, axis, keepdims = _no_axis(x), 0, False
    dims = tuple(range(x.dim())) if axis is None else axis
    try:
        return torch.logsumexp(x, dim=dims, keepdim=keepdims)
    except (IndexError, RuntimeError):
        _bad_axis("logsumexp", axis, x)
        raise


# ---------------------------------------------------------------------------------------------------
# elementwise math


def _unary(func, fn):
    def impl(x):
        return fn(x if x.__class__ is Tensor else to_tensor(x))

    impl.__name__ = func
    return impl


def _real(func, fn):
    """A function of real numbers: bool and integer inputs are cast to ``floatx()`` first."""

    def impl(x):
        if x.__class__ is not Tensor:
            x = to_tensor(x)
        return fn(x if x.is_floating_point() else x.to(DTYPES[config._floatx]))

    impl.__name__ = func
    return impl


square = _unary("square", lambda x: x.clone() if x.dtype is torch.bool else torch.square(x))  # bool stays bool
abs = _unary("abs", torch.abs)
round = _unary("round", torch.round)
sign = _unary("sign", lambda x: torch.where(torch.isnan(x), x, torch.sign(x)) if x.is_floating_point()
              else torch.sign(x))  # torch.sign(nan) is 0; NumPy and TensorFlow keep NaN
exp = _real("exp", torch.exp)
log = _real("log", torch.log)
sin = _real("sin", torch.sin)
cos = _real("cos", torch.cos)
sqrt = _real("sqrt", lambda x: torch.sqrt(torch.clamp_min(x, 0)))


def pow(x, a):
    if x.__class__ is Tensor and (a.__class__ is Tensor or a.__class__ is int
                                  or a.__class__ is float and x.is_floating_point()):
        return torch.pow(x, a)
    return torch.pow(*_operands(x, a))


def _bound(value, like):
    if _is_number(value):
        return _weak(value, like)
    value = to_tensor(value, like.device)
    return value if value.dtype is like.dtype else value.to(like.dtype)


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


def _binary(func, fn):
    def impl(x, y):
        if x.__class__ is Tensor and y.__class__ is Tensor:
            return fn(x, y)
        return fn(*_operands(x, y))

    impl.__name__ = func
    return impl


def _takes_dtype(number, x):
    """Whether torch, given the Python number itself, computes in ``x``'s dtype as the reference does."""
    return x.is_floating_point() or number.__class__ is int and x.dtype is not torch.bool


def _extreme(func, fn, clamp):
    """maximum / minimum; a Python number bound goes to torch's clamp, which takes it as it is."""

    def impl(x, y):
        if x.__class__ is Tensor:
            if y.__class__ is Tensor:
                return fn(x, y)
            if _is_number(y) and _takes_dtype(y, x):
                return clamp(x, y)
        elif y.__class__ is Tensor and _is_number(x) and _takes_dtype(x, y):
            return clamp(y, x)
        return fn(*_operands(x, y))

    impl.__name__ = func
    return impl


maximum = _extreme("maximum", torch.maximum, torch.clamp_min)
minimum = _extreme("minimum", torch.minimum, torch.clamp_max)


def _comparison(func, fn, mirrored):
    """A comparison; a Python number is passed to torch as it is (the result is bool either way)."""

    def impl(x, y):
        if x.__class__ is Tensor:
            if y.__class__ is Tensor or _is_number(y):
                return fn(x, y)
        elif y.__class__ is Tensor and _is_number(x):
            return mirrored(y, x)
        return fn(*_operands(x, y))

    impl.__name__ = func
    return impl


equal = _comparison("equal", torch.eq, torch.eq)
not_equal = _comparison("not_equal", torch.ne, torch.ne)
greater = _comparison("greater", torch.gt, torch.lt)
greater_equal = _comparison("greater_equal", torch.ge, torch.le)
less = _comparison("less", torch.lt, torch.gt)
less_equal = _comparison("less_equal", torch.le, torch.ge)


# ---------------------------------------------------------------------------------------------------
# linear algebra


def _same_dtype(a, b):
    """Both factors in one dtype: the ``promote`` rule (int32 · float32 → float32)."""
    if a.dtype is b.dtype:
        return a, b
    common = DTYPES[promote(NAMES[a.dtype], NAMES[b.dtype])]
    return a.to(common), b.to(common)


def dot(x, y):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if y.__class__ is not Tensor:
        y = to_tensor(y, x.device)
    if x.layout is not torch.strided:
        return torch.sparse.mm(x, y)
    x, y = _same_dtype(x, y)
    if y.dim() <= 2 or x.dim() == 1:
        return torch.matmul(x, y)
    return torch.tensordot(x, y, ([-1], [-2]))


def batch_dot(x, y, axes=None):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if y.__class__ is not Tensor:
        y = to_tensor(y, x.device)
    ax, ay = batch_dot_axes(tuple(x.shape), tuple(y.shape), axes)
    x, y = _same_dtype(x, y)
    a = torch.movedim(x, ax, -1)
    b = torch.movedim(y, ay, 1)
    batch, depth = a.shape[0], a.shape[-1]
    x_rest, y_rest = tuple(a.shape[1:-1]), tuple(b.shape[2:])
    out = torch.bmm(a.reshape(batch, _math.prod(x_rest), depth), b.reshape(batch, depth, _math.prod(y_rest)))
    shape = (batch,) + x_rest + y_rest
    return out.reshape(shape if len(shape) > 1 else (batch, 1))


_REVERSED = [tuple(range(n - 1, -1, -1)) for n in range(8)]


def transpose(x):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    n = x.dim()
    out = x.permute(_REVERSED[n] if n < 8 else tuple(range(n - 1, -1, -1)))
    return out.clone() if x.__class__ is Variable else out
