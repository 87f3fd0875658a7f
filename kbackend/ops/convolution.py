"""NumPy kernels behind the convolution and pooling declarations in :mod:`kbackend.ops.conv`.

Everything here works on channels-last arrays ``(batch, spatial..., channels)``; the declarations move
channels_first inputs there and back.  Windows are strided views (``sliding_window_view``) contracted
with ``tensordot``/``matmul``, so no Python loop runs over output positions.  Half-precision inputs are
computed in float32 and cast back; float64 stays float64.
"""

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..dtypes import from_python
from .variable import Variable


def as_array(x):
    """A NumPy view of a reference-backend value (variables unwrap; array-likes convert)."""
    if x.__class__ is np.ndarray:
        return x
    if x.__class__ is Variable:
        return x.value
    return from_python(x)  # Python values take Keras 2's types (floatx, int32)


def working_dtype(dtype):
    """The dtype the arithmetic runs in: float64 for float64 and non-float inputs, float32 otherwise."""
    if dtype == np.float64 or dtype.kind in "iub":
        return np.dtype(np.float64)
    return np.dtype(np.float32)


def prepare(func, x, kernels, n, data_format):
    """Check ranks, move ``x`` to channels-last and cast ``x`` and ``kernels`` to the working dtype.

    Returns ``(x, kernels, out_dtype)``; ``kernels`` is a dict name → array, each of rank ``n + 2``.
    """
    x = as_array(x)
    if x.ndim != n + 2:
        raise ValueError(f"{func}: argument `x` got a tensor of shape {x.shape}; expected a {n + 2}-D tensor")
    out_dtype = x.dtype
    work = working_dtype(out_dtype)
    arrays = {}
    for name, kernel in kernels.items():
        kernel = as_array(kernel)
        if kernel.ndim != n + 2:
            raise ValueError(
                f"{func}: argument `{name}` got a tensor of shape {kernel.shape}; expected a {n + 2}-D kernel"
            )
        arrays[name] = kernel.astype(work, copy=False)
    return to_channels_last(x, data_format).astype(work, copy=False), arrays, out_dtype


def to_channels_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def from_channels_last(y, data_format, dtype):
    if data_format == "channels_first":
        y = np.moveaxis(y, -1, 1)
    return np.ascontiguousarray(y).astype(dtype, copy=False)


def effective_size(size, dilation):
    return (size - 1) * dilation + 1


def same_padding(length, window, stride):
    """TensorFlow's 'same' padding (before, after) of one axis: the extra element goes after."""
    out = -(-length // stride)
    total = max((out - 1) * stride + window - length, 0)
    return total // 2, total - total // 2


def windows(func, x, window, strides, dilation, padding, pad_value=0.0):
    """The sliding windows of channels-last ``x``: shape ``(batch, out..., channels, window...)``.

    ``window`` holds the undilated window sizes; taps are ``dilation`` apart and windows ``strides`` apart.
    """
    n = len(window)
    spatial = x.shape[1:-1]
    extent = [effective_size(w, d) for w, d in zip(window, dilation)]
    if padding == "same":
        pads = [same_padding(length, e, s) for length, e, s in zip(spatial, extent, strides)]
        if any(p != (0, 0) for p in pads):
            x = np.pad(x, [(0, 0)] + pads + [(0, 0)], constant_values=pad_value)
    elif any(length < e for length, e in zip(spatial, extent)):
        raise ValueError(
            f"{func}: argument `x` got spatial shape {tuple(spatial)}; expected at least the dilated window "
            f"{tuple(extent)} with padding='valid'"
        )
    view = sliding_window_view(x, extent, axis=tuple(range(1, n + 1)))
    index = (slice(None),) + tuple(slice(None, None, s) for s in strides) + (slice(None),)
    index += tuple(slice(None, None, d) for d in dilation)
    return view[index]


def check_channels(func, name, got, expected):
    if got != expected:
        raise ValueError(
            f"{func}: argument `{name}` got {got} input channels; expected {expected} (the channels of `x`)"
        )


def convolve(func, x, kernel, strides, padding, dilation):
    """N-D cross-correlation of channels-last ``x`` with ``kernel`` of shape ``(window..., in, out)``."""
    n = kernel.ndim - 2
    check_channels(func, "kernel", kernel.shape[n], x.shape[-1])
    patches = windows(func, x, kernel.shape[:n], strides, dilation, padding)
    return np.tensordot(patches, kernel, axes=(list(range(n + 1, 2 * n + 2)), [n] + list(range(n))))


def depthwise(func, x, kernel, strides, padding, dilation):
    """Per-channel convolution; ``kernel`` ``(window..., in, multiplier)`` → ``in * multiplier`` channels,
    output channel ``c * multiplier + m``."""
    n = kernel.ndim - 2
    channels, multiplier = kernel.shape[n], kernel.shape[n + 1]
    check_channels(func, "depthwise_kernel", channels, x.shape[-1])
    patches = windows(func, x, kernel.shape[:n], strides, dilation, padding)
    out_shape = patches.shape[: n + 1]
    taps = math.prod(kernel.shape[:n])
    patches = np.moveaxis(patches.reshape(-1, channels, taps), 1, 0)
    weights = np.moveaxis(kernel.reshape(taps, channels, multiplier), 1, 0)
    y = np.matmul(patches, weights)
    return np.moveaxis(y, 0, 1).reshape(out_shape + (channels * multiplier,))


def pointwise(func, x, kernel):
    """A 1×…×1 convolution: ``kernel`` ``(1..., in, out)``."""
    n = kernel.ndim - 2
    if kernel.shape[:n] != (1,) * n:
        raise ValueError(
            f"{func}: argument `pointwise_kernel` got shape {kernel.shape}; expected {(1,) * n + kernel.shape[n:]}"
        )
    check_channels(func, "pointwise_kernel", kernel.shape[n], x.shape[-1])
    return np.tensordot(x, kernel.reshape(kernel.shape[n:]), axes=([-1], [0]))


def check_strided_dilation(func, strides, dilation):
    """TensorFlow (the Keras 2 engine) refuses strides > 1 together with dilation > 1."""
    if any(s > 1 for s in strides) and any(d > 1 for d in dilation):
        raise ValueError(
            f"{func}: argument `dilation_rate` got {dilation}; expected all 1 when strides {strides} exceed 1"
        )


def split_output_shape(func, x, output_shape, data_format):
    """The spatial part of ``output_shape`` and its batch size (None → the batch of ``x``), checked."""
    n = x.ndim - 2
    if len(output_shape) != n + 2:
        raise ValueError(f"{func}: argument `output_shape` got {output_shape!r}; expected {n + 2} entries")
    if data_format == "channels_first":
        batch, channels, spatial = output_shape[0], output_shape[1], tuple(output_shape[2:])
    else:
        batch, channels, spatial = output_shape[0], output_shape[-1], tuple(output_shape[1:-1])
    if batch is not None and batch != x.shape[0]:
        raise ValueError(
            f"{func}: argument `output_shape` got batch size {batch}; expected None or {x.shape[0]} (the batch of `x`)"
        )
    return channels, spatial


def convolve_transpose(func, x, kernel, out_spatial, out_channels, strides, padding, dilation):
    """The transpose (input gradient) of :func:`convolve`: ``kernel`` ``(window..., out, in)``; the result
    has spatial shape ``out_spatial``, which must convolve back to the spatial shape of ``x``."""
    n = kernel.ndim - 2
    window = kernel.shape[:n]
    check_channels(func, "kernel", kernel.shape[n + 1], x.shape[-1])
    if out_channels != kernel.shape[n]:
        raise ValueError(
            f"{func}: argument `output_shape` got {out_channels} channels; expected {kernel.shape[n]} "
            "(the output channels of `kernel`)"
        )
    in_spatial = x.shape[1:-1]
    before, full = [], []
    for length, out, w, s, d in zip(in_spatial, out_spatial, window, strides, dilation):
        extent = effective_size(w, d)
        if padding == "same":
            forward = -(-out // s)
            pad = max((length - 1) * s + extent - out, 0) // 2
        else:
            forward = (out - extent) // s + 1 if out >= extent else 0
            pad = 0
        if forward != length:
            raise ValueError(
                f"{func}: argument `output_shape` got spatial shape {tuple(out_spatial)}; expected one whose "
                f"{padding!r} convolution has the spatial shape {tuple(in_spatial)} of `x`"
            )
        before.append(pad)
        full.append(max((length - 1) * s + extent, pad + out))
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


def pool(func, x, pool_size, strides, padding, pool_mode):
    """Max or average pooling of channels-last ``x``; 'same' average pooling counts only real elements."""
    n = len(pool_size)
    ones = (1,) * n
    axes = tuple(range(-n, 0))
    if pool_mode == "max":
        patches = windows(func, x, pool_size, strides, ones, padding, pad_value=-np.inf)
        return patches.max(axis=axes)
    total = windows(func, x, pool_size, strides, ones, padding).sum(axis=axes)
    if padding == "valid":
        return total / math.prod(pool_size)
    count = windows(func, np.ones((1,) + x.shape[1:-1] + (1,), x.dtype), pool_size, strides, ones, padding)
    return total / count.sum(axis=axes)


def local_convolve(func, x, kernel, kernel_size, strides, output_shape, data_format):
    """Unshared-weight convolution of channels-last ``x``, as tf_keras' ``local_conv``: the patch at each
    output position is flattened in the layout of the caller's ``data_format`` ((window..., in) for
    channels_last, (in, window...) for channels_first) and multiplied by that position's slice of
    ``kernel`` ``(positions, features, filters)``."""
    n = len(kernel_size)
    spatial, channels = x.shape[1:-1], x.shape[-1]
    positions = math.prod(output_shape)
    features = math.prod(kernel_size) * channels
    if kernel.ndim != 3 or kernel.shape[:2] != (positions, features):
        raise ValueError(
            f"{func}: argument `kernel` got shape {kernel.shape}; expected ({positions}, {features}, filters) "
            f"for output shape {tuple(output_shape)}, kernel size {tuple(kernel_size)} and {channels} channels"
        )
    for length, out, k, s in zip(spatial, output_shape, kernel_size, strides):
        if (out - 1) * s + k > length:
            raise ValueError(
                f"{func}: argument `output_shape` got {tuple(output_shape)}; expected windows of size "
                f"{tuple(kernel_size)} and strides {tuple(strides)} to fit the spatial shape {tuple(spatial)}"
            )
    patches = windows(func, x, kernel_size, strides, (1,) * n, "valid")
    patches = patches[(slice(None),) + tuple(slice(0, out) for out in output_shape)]
    if data_format == "channels_last":
        patches = np.moveaxis(patches, n + 1, -1)
    patches = patches.reshape(x.shape[0], positions, features)
    y = np.matmul(np.moveaxis(patches, 1, 0), kernel)  # (positions, batch, filters)
    return np.moveaxis(y, 0, 1).reshape((x.shape[0],) + tuple(output_shape) + (kernel.shape[-1],))
