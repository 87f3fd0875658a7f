"""Convolution, transposed convolution, pooling and local convolution on ``jax.lax``.

Both data formats go straight to ``conv_general_dilated`` / ``reduce_window`` through dimension
numbers, with no transposes.  'same' padding is computed as TensorFlow does (the odd element after).
Half-precision and integer inputs are computed in float32 and cast back, as the reference does.
"""

import math

import numpy as np

import jax.numpy as jnp
from jax import lax

from ...ops.convolution import split_output_shape
from .arrays import cast, precision, to_jax

_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def _dimension_numbers(n, data_format, kernel_spec="IO"):
    spatial = _SPATIAL[n]
    data = "NC" + spatial if data_format == "channels_first" else "N" + spatial + "C"
    return data, spatial + kernel_spec, data


def _prepare(func, x, n, **kernels):
    """Check ranks; return ``x`` and the kernels in the working dtype, and the output dtype."""
    x = to_jax(x)
    if x.ndim != n + 2:
        raise ValueError(f"{func}: argument `x` got a tensor of shape {x.shape}; expected a {n + 2}-D tensor")
    out_dtype = x.dtype
    work = out_dtype if out_dtype in (jnp.float32, jnp.float64) else jnp.dtype(jnp.float32)
    arrays = []
    for name, kernel in kernels.items():
        kernel = to_jax(kernel)
        if kernel.ndim != n + 2:
            raise ValueError(
                f"{func}: argument `{name}` got a tensor of shape {kernel.shape}; expected a {n + 2}-D kernel"
            )
        arrays.append(cast(kernel, work))
    return cast(x, work), arrays, out_dtype


def _spatial_shape(x, data_format):
    return x.shape[2:] if data_format == "channels_first" else x.shape[1:-1]


def _channels(x, data_format):
    return x.shape[1] if data_format == "channels_first" else x.shape[-1]


def _same_padding(length, window, stride):
    out = -(-length // stride)
    total = max((out - 1) * stride + window - length, 0)
    return total // 2, total - total // 2


def _padding(func, spatial, window, strides, dilation, padding):
    extent = [(w - 1) * d + 1 for w, d in zip(window, dilation)]
    if padding == "same":
        return [_same_padding(length, e, s) for length, e, s in zip(spatial, extent, strides)]
    if any(length < e for length, e in zip(spatial, extent)):
        raise ValueError(
            f"{func}: argument `x` got spatial shape {tuple(spatial)}; expected at least the dilated window "
            f"{tuple(extent)} with padding='valid'"
        )
    return [(0, 0)] * len(window)


def _check_channels(func, name, got, expected):
    if got != expected:
        raise ValueError(
            f"{func}: argument `{name}` got {got} input channels; expected {expected} (the channels of `x`)"
        )


def _check_strided_dilation(func, strides, dilation):
    if any(s > 1 for s in strides) and any(d > 1 for d in dilation):
        raise ValueError(
            f"{func}: argument `dilation_rate` got {dilation}; expected all 1 when strides {strides} exceed 1"
        )


def _convolve(func, x, kernel, strides, padding, dilation, data_format, groups=1):
    n = kernel.ndim - 2
    pads = _padding(func, _spatial_shape(x, data_format), kernel.shape[:n], strides, dilation, padding)
    return lax.conv_general_dilated(
        x, kernel, strides, pads, rhs_dilation=dilation, feature_group_count=groups,
        dimension_numbers=_dimension_numbers(n, data_format), precision=precision(),
    )


def _conv(func, x, kernel, strides, padding, data_format, dilation):
    n = len(strides)
    x, (kernel,), dtype = _prepare(func, x, n, kernel=kernel)
    _check_strided_dilation(func, strides, dilation)
    _check_channels(func, "kernel", kernel.shape[n], _channels(x, data_format))
    return cast(_convolve(func, x, kernel, strides, padding, dilation, data_format), dtype)


def conv1d(x, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    if padding == "causal":
        if data_format != "channels_last":
            raise ValueError(
                "conv1d: argument `padding` got 'causal'; expected 'valid' or 'same' with "
                "data_format='channels_first' (causal padding needs channels_last)"
            )
        x = to_jax(x)
        if x.ndim == 3:
            left = dilation_rate[0] * (to_jax(kernel).shape[0] - 1)
            x = jnp.pad(x, [(0, 0), (left, 0), (0, 0)])
        padding = "valid"
    return _conv("conv1d", x, kernel, strides, padding, data_format, dilation_rate)


def conv2d(x, kernel, strides=(1, 1), padding="valid", data_format=None, dilation_rate=(1, 1)):
    return _conv("conv2d", x, kernel, strides, padding, data_format, dilation_rate)


def conv3d(x, kernel, strides=(1, 1, 1), padding="valid", data_format=None, dilation_rate=(1, 1, 1)):
    return _conv("conv3d", x, kernel, strides, padding, data_format, dilation_rate)


def _depthwise(func, x, kernel, strides, padding, dilation, data_format):
    n = kernel.ndim - 2
    channels, multiplier = kernel.shape[n], kernel.shape[n + 1]
    _check_channels(func, "depthwise_kernel", channels, _channels(x, data_format))
    kernel = kernel.reshape(kernel.shape[:n] + (1, channels * multiplier))
    return _convolve(func, x, kernel, strides, padding, dilation, data_format, groups=channels)


def _pointwise(func, x, kernel, data_format):
    n = kernel.ndim - 2
    if kernel.shape[:n] != (1,) * n:
        raise ValueError(
            f"{func}: argument `pointwise_kernel` got shape {kernel.shape}; expected {(1,) * n + kernel.shape[n:]}"
        )
    _check_channels(func, "pointwise_kernel", kernel.shape[n], _channels(x, data_format))
    return _convolve(func, x, kernel, (1,) * n, "valid", (1,) * n, data_format)


def depthwise_conv2d(x, depthwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    x, (kernel,), dtype = _prepare("depthwise_conv2d", x, 2, depthwise_kernel=depthwise_kernel)
    _check_strided_dilation("depthwise_conv2d", strides, dilation_rate)
    return cast(_depthwise("depthwise_conv2d", x, kernel, strides, padding, dilation_rate, data_format), dtype)


def _separable(func, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation):
    x, (depthwise, pointwise), dtype = _prepare(
        func, x, len(strides), depthwise_kernel=depthwise_kernel, pointwise_kernel=pointwise_kernel
    )
    _check_strided_dilation(func, strides, dilation)
    y = _depthwise(func, x, depthwise, strides, padding, dilation, data_format)
    return cast(_pointwise(func, y, pointwise, data_format), dtype)


def separable_conv1d(x, depthwise_kernel, pointwise_kernel, strides=1, padding="valid", data_format=None,
                     dilation_rate=1):
    return _separable("separable_conv1d", x, depthwise_kernel, pointwise_kernel, strides, padding, data_format,
                      dilation_rate)


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    return _separable("separable_conv2d", x, depthwise_kernel, pointwise_kernel, strides, padding, data_format,
                      dilation_rate)


def _conv_transpose(func, x, kernel, output_shape, strides, padding, data_format, dilation):
    """The input gradient of a convolution: a convolution of the ``strides``-dilated input with the
    flipped kernel, padded so that the result has the spatial shape of ``output_shape``."""
    n = len(strides)
    x, (kernel,), dtype = _prepare(func, x, n, kernel=kernel)
    out_channels, out_spatial = split_output_shape(func, x, output_shape, data_format)
    _check_channels(func, "kernel", kernel.shape[n + 1], _channels(x, data_format))
    if out_channels != kernel.shape[n]:
        raise ValueError(
            f"{func}: argument `output_shape` got {out_channels} channels; expected {kernel.shape[n]} "
            "(the output channels of `kernel`)"
        )
    in_spatial = _spatial_shape(x, data_format)
    pads = []
    for length, out, w, s, d in zip(in_spatial, out_spatial, kernel.shape[:n], strides, dilation):
        extent = (w - 1) * d + 1
        if padding == "same":
            forward = -(-out // s)
            before = max((length - 1) * s + extent - out, 0) // 2
        else:
            forward = (out - extent) // s + 1 if out >= extent else 0
            before = 0
        if forward != length:
            raise ValueError(
                f"{func}: argument `output_shape` got spatial shape {tuple(out_spatial)}; expected one whose "
                f"{padding!r} convolution has the spatial shape {tuple(in_spatial)} of `x`"
            )
        low = extent - 1 - before
        pads.append((low, out + extent - 2 - (length - 1) * s - low))
    kernel = jnp.flip(kernel, tuple(range(n)))
    y = lax.conv_general_dilated(
        x, kernel, (1,) * n, pads, lhs_dilation=strides, rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(n, data_format, kernel_spec="OI"), precision=precision(),
    )
    return cast(y, dtype)


def conv2d_transpose(x, kernel, output_shape, strides=(1, 1), padding="valid", data_format=None,
                     dilation_rate=(1, 1)):
    if dilation_rate[0] != dilation_rate[1]:
        raise ValueError(
            f"conv2d_transpose: argument `dilation_rate` got {dilation_rate}; expected two equal rates"
        )
    _check_strided_dilation("conv2d_transpose", strides, dilation_rate)
    return _conv_transpose("conv2d_transpose", x, kernel, output_shape, strides, padding, data_format,
                           dilation_rate)


def conv3d_transpose(x, kernel, output_shape, strides=(1, 1, 1), padding="valid", data_format=None):
    return _conv_transpose("conv3d_transpose", x, kernel, output_shape, strides, padding, data_format, (1, 1, 1))


def _window(n, data_format, spatial):
    return (1, 1) + tuple(spatial) if data_format == "channels_first" else (1,) + tuple(spatial) + (1,)


def _pool(func, x, pool_size, strides, padding, data_format, pool_mode):
    n = len(pool_size)
    x, _, dtype = _prepare(func, x, n)
    pads = _padding(func, _spatial_shape(x, data_format), pool_size, strides, (1,) * n, padding)
    window = _window(n, data_format, pool_size)
    steps = _window(n, data_format, strides)
    full_pads = [(0, 0)] * x.ndim
    spatial_axes = range(2, n + 2) if data_format == "channels_first" else range(1, n + 1)
    for axis, pad in zip(spatial_axes, pads):
        full_pads[axis] = pad
    if pool_mode == "max":
        y = lax.reduce_window(x, -jnp.inf, lax.max, window, steps, full_pads)
    else:
        total = lax.reduce_window(x, 0.0, lax.add, window, steps, full_pads)
        if padding == "valid" or all(p == (0, 0) for p in pads):
            y = total / math.prod(pool_size)
        else:
            ones = jnp.ones(tuple(1 if a not in spatial_axes else d for a, d in enumerate(x.shape)), x.dtype)
            y = total / lax.reduce_window(ones, 0.0, lax.add, window, steps, full_pads)
    return cast(y, dtype)


def pool2d(x, pool_size, strides=(1, 1), padding="valid", data_format=None, pool_mode="max"):
    return _pool("pool2d", x, pool_size, strides, padding, data_format, pool_mode)


def pool3d(x, pool_size, strides=(1, 1, 1), padding="valid", data_format=None, pool_mode="max"):
    return _pool("pool3d", x, pool_size, strides, padding, data_format, pool_mode)


def _local(func, inputs, kernel, kernel_size, strides, output_shape, data_format):
    """Unshared-weight convolution: each output position's window, flattened in the layout of
    ``data_format`` ((window..., in) or (in, window...)), times that position's slice of ``kernel``."""
    n = len(kernel_size)
    x, _, dtype = _prepare(func, inputs, n)
    kernel = cast(to_jax(kernel), x.dtype)
    spatial, channels = _spatial_shape(x, data_format), _channels(x, data_format)
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
    first = 2 if data_format == "channels_first" else 1
    taps = []
    for tap in np.ndindex(*kernel_size):
        index = [slice(None)] * x.ndim
        for i, (t, out, s) in enumerate(zip(tap, output_shape, strides)):
            index[first + i] = slice(t, t + (out - 1) * s + 1, s)
        taps.append(x[tuple(index)])
    channel_axis = 1 if data_format == "channels_first" else x.ndim - 1
    tap_axis = -1 if data_format == "channels_first" else -2
    patches = jnp.stack([jnp.moveaxis(t, channel_axis, -1) for t in taps], axis=tap_axis)
    patches = patches.reshape((x.shape[0], positions, features))
    y = jnp.einsum("bpf,pfo->bpo", patches, kernel, precision=precision())
    y = y.reshape((x.shape[0],) + tuple(output_shape) + (kernel.shape[-1],))
    if data_format == "channels_first":
        y = jnp.moveaxis(y, -1, 1)
    return cast(y, dtype)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format=None):
    return _local("local_conv1d", inputs, kernel, kernel_size, strides, (to_jax(kernel).shape[0],), data_format)


def local_conv2d(inputs, kernel, kernel_size, strides, output_shape, data_format=None):
    return _local("local_conv2d", inputs, kernel, kernel_size, strides, output_shape, data_format)
