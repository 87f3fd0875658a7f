"""Shape and indexing ops, image resizing and zero padding on torch.

View-returning ops (reshape, permute, slice, squeeze, ...) copy when their input is a variable, so a
result never follows the variable's later updates (as in the reference).
"""

import builtins

import numpy as np
import torch
import torch.nn.functional as F

from ...dtypes import canonical_dtype
from ...ops.array_bodies import concat_axis, padding_ops
from ...ops.shape_rules import range_dtype
from .variables import DTYPES, Tensor, Variable, to_numpy, to_tensor


def _owned(out, x):
    """``out``, a view of ``x``, copied when ``x`` is a variable."""
    return out.clone() if x.__class__ is Variable else out


def _int(value):
    return int(value.item()) if isinstance(value, Tensor) else int(value)


def _ints(value):
    """A tuple/list whose entries may be scalar tensors, or a 1-D int tensor/array → a tuple of ints."""
    if isinstance(value, (tuple, list)):
        return tuple(_int(v) for v in value)
    if isinstance(value, Tensor):
        return tuple(int(v) for v in value.reshape(-1).tolist())
    return tuple(int(v) for v in np.asarray(value).reshape(-1))


# ---------------------------------------------------------------------------------------------------
# indexing, joining, reshaping


# torch: advanced indexing on the reference's device
def gather(reference, indices):
    if reference.__class__ is not Tensor:
        reference = to_tensor(reference)
    if indices.__class__ is not Tensor:
        indices = to_tensor(indices, reference.device)
    return reference[indices]


# torch: torch.cat with the first part's rank deciding a negative axis
def concatenate(tensors, axis=-1):
    tensors = [t if t.__class__ is Tensor else to_tensor(t) for t in tensors]
    return torch.cat(tensors, concat_axis(axis, tensors[0].dim()))


# torch: shape entries read as ints; a view copied when x is a variable
def reshape(x, shape):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if shape.__class__ is not tuple:
        shape = _ints(shape)
    try:
        out = x.reshape(shape)
    except TypeError:
        out = x.reshape(_ints(shape))
    return _owned(out, x)


def permute_dimensions(x, pattern):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    return _owned(x.permute(pattern), x)


def repeat_elements(x, rep, axis):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    return torch.repeat_interleave(x, rep, dim=axis)


# torch: bounds read on the host and typed by the reference's range rule
def arange(start, stop=None, step=1, dtype="int32"):
    if stop is None:
        start, stop = 0, (0 if _scalar(start) < 0 else start)
    inferred = range_dtype((start, stop, step), lambda v: canonical_dtype(np.asarray(_numpy_scalar(v)).dtype))
    start, stop, step = _scalar(start), _scalar(stop), _scalar(step)
    if step == 0:
        raise ValueError("arange: argument `step` got 0; expected a non-zero step")
    if (stop - start) * step <= 0:
        values = torch.empty((0,), dtype=DTYPES[inferred])
    else:
        values = torch.arange(start, stop, step, dtype=DTYPES[inferred])
    if dtype != "int32":
        values = values.to(DTYPES[dtype])
    return values


def _scalar(value):
    return value.item() if isinstance(value, Tensor) else value


def _numpy_scalar(value):
    """What the reference's dtype inference sees: tensors as NumPy arrays, numbers as they are."""
    return to_numpy(value) if isinstance(value, Tensor) else value


# torch: multiples read as ints (a tensor n)
def tile(x, n):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    n = _ints(n)
    return x.repeat((1,) * (x.dim() - len(n)) + n) if x.dim() else x.clone()


def expand_dims(x, axis=-1):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    return _owned(torch.unsqueeze(x, axis), x)


def squeeze(x, axis):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    return _owned(torch.squeeze(x, axis), x)


def stack(x, axis=0):
    return torch.stack([t if t.__class__ is Tensor else to_tensor(t) for t in x], axis)


def one_hot(indices, num_classes):
    if indices.__class__ is not Tensor:
        indices = to_tensor(indices)
    classes = torch.arange(num_classes, device=indices.device)
    return (indices.unsqueeze(-1) == classes).to(torch.float32)


def reverse(x, axes):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    return torch.flip(x, axes)


# torch: starts and sizes read as ints; a view copied when x is a variable
def slice(x, start, size):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    start, size = _ints(start), _ints(size)
    index = tuple(builtins.slice(b, None if n == -1 else b + n) for b, n in zip(start, size))
    return _owned(x[index], x)


# ---------------------------------------------------------------------------------------------------
# resizing


def _channels_first_view(x, data_format):
    """``x`` with channels on axis 1: a permuted view for channels_last (torch's channels_last memory
    format), so no data moves."""
    if data_format == "channels_first":
        return x
    return x.movedim(-1, 1)


def _back(y, data_format):
    return y if data_format == "channels_first" else y.movedim(1, -1)


# torch: F.interpolate on a channels-first view; ints repeat (interpolate takes floats only)
def resize_images(x, height_factor, width_factor, data_format, interpolation="nearest"):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if interpolation == "nearest" and not x.is_floating_point():
        first = 2 if data_format == "channels_first" else 1
        return torch.repeat_interleave(torch.repeat_interleave(x, height_factor, first), width_factor, first + 1)
    if not x.is_floating_point():
        x = x.to(torch.float32)
    view = _channels_first_view(x, data_format)
    if interpolation == "nearest":
        y = F.interpolate(view, scale_factor=(height_factor, width_factor), mode="nearest")
    else:
        y = F.interpolate(view, scale_factor=(height_factor, width_factor), mode="bilinear", align_corners=False)
    return _back(y, data_format)


# torch: overrides the composite with one F.interpolate (repeat_interleave for ints)
def resize_volumes(x, depth_factor, height_factor, width_factor, data_format):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    factors = (depth_factor, height_factor, width_factor)
    if not x.is_floating_point():
        first = 2 if data_format == "channels_first" else 1
        for axis, factor in enumerate(factors, first):
            x = torch.repeat_interleave(x, factor, axis)
        return x
    y = F.interpolate(_channels_first_view(x, data_format), scale_factor=factors, mode="nearest")
    return _back(y, data_format)


# ---------------------------------------------------------------------------------------------------
# zero padding


def _pad(x, widths):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    return F.pad(x, [width for pair in reversed(widths) for width in pair])


temporal_padding, spatial_2d_padding, spatial_3d_padding = padding_ops(_pad)
