"""NumPy kernels behind the convolution and pooling declarations in :mod:`kbackend.ops.conv`.

The op's check (:mod:`.conv_rules`) has run before any of these, so they compute only.  Everything here
works on channels-last arrays ``(batch, spatial..., channels)``; the declarations move
channels_first inputs there and back.  Windows are strided views (``sliding_window_view``) contracted
with ``tensordot``/``matmul``, so no Python loop runs over output positions.  Half-precision inputs are
computed in float32 and cast back; float64 stays float64.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .conv_rules import effective_size, padding_amounts, same_padding, transpose_crops  # noqa: F401 (vjp_conv)
from .variables import _array as as_array  # the reference's NumPy view of a value (same package)


def working_dtype(dtype):
    """The dtype the arithmetic runs in: float64 for float64 and non-float inputs, float32 otherwise."""
    if dtype == np.float64 or dtype.kind in "iub":
        return np.dtype(np.float64)
    return np.dtype(np.float32)


def prepare(x, kernels, data_format):
    """Move ``x`` to channels-last and cast ``x`` and ``kernels`` (a dict name → kernel) to the working
    dtype.  Returns ``(x, kernels, out_dtype)``.  The op's check (:mod:`.conv_rules`) has run."""
    x = as_array(x)
    out_dtype = x.dtype
    work = working_dtype(out_dtype)
    arrays = {name: as_array(kernel).astype(work, copy=False) for name, kernel in kernels.items()}
    return to_channels_last(x, data_format).astype(work, copy=False), arrays, out_dtype


def to_channels_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def from_channels_last(y, data_format, dtype):
    if data_format == "channels_first":
        y = np.moveaxis(y, -1, 1)
    return np.ascontiguousarray(y).astype(dtype, copy=False)


def windows(x, window, strides, dilation, padding, pad_value=0.0):
    """The sliding windows of channels-last ``x``: shape ``(batch, out..., channels, window...)``.

    ``window`` holds the undilated window sizes; taps are ``dilation`` apart and windows ``strides`` apart.
    """
    n = len(window)
    pads = padding_amounts(x.shape[1:-1], window, strides, dilation, padding)
    if any(p != (0, 0) for p in pads):
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=pad_value)
    extent = [effective_size(w, d) for w, d in zip(window, dilation)]
    view = sliding_window_view(x, extent, axis=tuple(range(1, n + 1)))
    index = (slice(None),) + tuple(slice(None, None, s) for s in strides) + (slice(None),)
    index += tuple(slice(None, None, d) for d in dilation)
    return view[index]


def convolve(x, kernel, strides, padding, dilation):
    """N-D cross-correlation of channels-last ``x`` with ``kernel`` of shape ``(window..., in, out)``."""
    n = kernel.ndim - 2
    patches = windows(x, kernel.shape[:n], strides, dilation, padding)
    return np.tensordot(patches, kernel, axes=(list(range(n + 1, 2 * n + 2)), [n] + list(range(n))))


def depthwise(x, kernel, strides, padding, dilation):
    """Per-channel convolution; ``kernel`` ``(window..., in, multiplier)`` → ``in * multiplier`` channels,
    output channel ``c * multiplier + m``."""
    n = kernel.ndim - 2
    channels, multiplier = kernel.shape[n], kernel.shape[n + 1]
    patches = windows(x, kernel.shape[:n], strides, dilation, padding)
    out_shape = patches.shape[: n + 1]
    taps = math.prod(kernel.shape[:n])
    patches = np.moveaxis(patches.reshape(-1, channels, taps), 1, 0)
    weights = np.moveaxis(kernel.reshape(taps, channels, multiplier), 1, 0)
    y = np.matmul(patches, weights)
    return np.moveaxis(y, 0, 1).reshape(out_shape + (channels * multiplier,))


def pointwise(x, kernel):
    """A 1×…×1 convolution: ``kernel`` ``(1..., in, out)``."""
    n = kernel.ndim - 2
    return np.tensordot(x, kernel.reshape(kernel.shape[n:]), axes=([-1], [0]))


def convolve_transpose(x, kernel, out_spatial, strides, padding, dilation):
    """The transpose (input gradient) of :func:`convolve`: ``kernel`` ``(window..., out, in)``; the result
    has spatial shape ``out_spatial``, which convolves back to the spatial shape of ``x``."""
    n = kernel.ndim - 2
    window = kernel.shape[:n]
    in_spatial = x.shape[1:-1]
    before = transpose_crops(in_spatial, out_spatial, window, strides, dilation, padding)
    full = [max((length - 1) * s + effective_size(w, d), b + out)
            for length, out, w, s, d, b in zip(in_spatial, out_spatial, window, strides, dilation, before)]
    contributions = np.tensordot(x, kernel, axes=([n + 1], [n + 1]))  # (batch, in..., window..., out)
    y = np.zeros((x.shape[0],) + tuple(full) + (kernel.shape[n],), dtype=x.dtype)
    for tap in np.ndindex(*window):
        target = (slice(None),) + tuple(
            slice(t * d, t * d + (length - 1) * s + 1, s)
            for t, d, s, length in zip(tap, dilation, strides, in_spatial)
        )
        y[target] += contributions[(slice(None),) * (n + 1) + tap]
    crop = (slice(None),) + tuple(slice(b, b + out) for b, out in zip(before, out_spatial))
    return y[crop]


def pool(x, pool_size, strides, padding, pool_mode):
    """Max or average pooling of channels-last ``x``; 'same' average pooling counts only real elements."""
    n = len(pool_size)
    ones = (1,) * n
    axes = tuple(range(-n, 0))
    if pool_mode == "max":
        patches = windows(x, pool_size, strides, ones, padding, pad_value=-np.inf)
        return patches.max(axis=axes)
    total = windows(x, pool_size, strides, ones, padding).sum(axis=axes)
    if padding == "valid":
        return total / math.prod(pool_size)
    count = windows(np.ones((1,) + x.shape[1:-1] + (1,), x.dtype), pool_size, strides, ones, padding)
    return total / count.sum(axis=axes)


def local_convolve(x, kernel, kernel_size, strides, output_shape, data_format):
    """Unshared-weight convolution of channels-last ``x``, as tf_keras' ``local_conv``: the patch at each
    output position is flattened in the layout of the caller's ``data_format`` ((window..., in) for
    channels_last, (in, window...) for channels_first) and multiplied by that position's slice of
    ``kernel`` ``(positions, features, filters)``."""
    n = len(kernel_size)
    positions = math.prod(output_shape)
    features = math.prod(kernel_size) * x.shape[-1]
    patches = windows(x, kernel_size, strides, (1,) * n, "valid")
    patches = patches[(slice(None),) + tuple(slice(0, out) for out in output_shape)]
    if data_format == "channels_last":
        patches = np.moveaxis(patches, n + 1, -1)
    patches = patches.reshape(x.shape[0], positions, features)
    y = np.matmul(np.moveaxis(patches, 1, 0), kernel)  # (positions, batch, filters)
    return np.moveaxis(y, 0, 1).reshape((x.shape[0],) + tuple(output_shape) + (kernel.shape[-1],))
