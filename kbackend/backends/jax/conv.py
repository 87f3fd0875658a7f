"""Convolution, transposed convolution, pooling and local convolution on ``jax.lax``.

Both data formats go straight to ``conv_general_dilated`` / ``reduce_window`` through dimension
numbers, with no transposes.  The op's check (:mod:`kbackend.ops.conv_rules`) has run; the padding
amounts ('same' as TensorFlow pads, 'causal') come from the same rules.  Half-precision and integer
inputs are computed in float32 and cast back, as the reference does.
"""

import math

import numpy as np

import jax.numpy as jnp
from jax import lax

from ...ops.conv_rules import (effective_size, padding_amounts, spatial_of, split_output_shape, static_shape,
                               transpose_crops)
from .arrays import cast, precision, to_jax

_SPATIAL = {1: "W", 2: "HW", 3: "DHW"}


def _dimension_numbers(n, data_format, kernel_spec="IO"):
    spatial = _SPATIAL[n]
    data = "NC" + spatial if data_format == "channels_first" else "N" + spatial + "C"
    return data, spatial + kernel_spec, data


def _prepare(x, *kernels):
    """``x`` and the kernels in the working dtype, and the output dtype."""
    x = to_jax(x)
    out_dtype = x.dtype
    work = out_dtype if out_dtype in (jnp.float32, jnp.float64) else jnp.dtype(jnp.float32)
    return cast(x, work), [cast(to_jax(kernel), work) for kernel in kernels], out_dtype


def _convolve(x, kernel, strides, padding, dilation, data_format, groups=1):
    n = kernel.ndim - 2
    pads = padding_amounts(spatial_of(x.shape, data_format), kernel.shape[:n], strides, dilation, padding)
    return lax.conv_general_dilated(
        x, kernel, strides, pads, rhs_dilation=dilation, feature_group_count=groups,
        dimension_numbers=_dimension_numbers(n, data_format), precision=precision(),
    )


def _conv(x, kernel, strides, padding, data_format, dilation_rate):
    x, (kernel,), dtype = _prepare(x, kernel)
    return cast(_convolve(x, kernel, strides, padding, dilation_rate, data_format), dtype)


conv1d = conv2d = conv3d = _conv


def _depthwise(x, kernel, strides, padding, dilation, data_format):
    n = kernel.ndim - 2
    channels, multiplier = kernel.shape[n], kernel.shape[n + 1]
    kernel = kernel.reshape(kernel.shape[:n] + (1, channels * multiplier))
    return _convolve(x, kernel, strides, padding, dilation, data_format, groups=channels)


def depthwise_conv2d(x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    x, (kernel,), dtype = _prepare(x, depthwise_kernel)
    return cast(_depthwise(x, kernel, strides, padding, dilation_rate, data_format), dtype)


def _separable(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    x, (depthwise, pointwise), dtype = _prepare(x, depthwise_kernel, pointwise_kernel)
    n = len(strides)
    y = _depthwise(x, depthwise, strides, padding, dilation_rate, data_format)
    return cast(_convolve(y, pointwise, (1,) * n, "valid", (1,) * n, data_format), dtype)


separable_conv1d = separable_conv2d = _separable


def _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation):
    """The input gradient of a convolution: a convolution of the ``strides``-dilated input with the
    flipped kernel, padded so that the result has the spatial shape of ``output_shape``."""
    n = len(strides)
    x, (kernel,), dtype = _prepare(x, kernel)
    out_spatial = split_output_shape(output_shape, data_format)[2]
    in_spatial = spatial_of(x.shape, data_format)
    window = kernel.shape[:n]
    crops = transpose_crops(in_spatial, out_spatial, window, strides, dilation, padding)
    pads = []
    for length, out, w, s, d, before in zip(in_spatial, out_spatial, window, strides, dilation, crops):
        extent = effective_size(w, d)
        low = extent - 1 - before
        pads.append((low, out + extent - 2 - (length - 1) * s - low))
    kernel = jnp.flip(kernel, tuple(range(n)))
    y = lax.conv_general_dilated(
        x, kernel, (1,) * n, pads, lhs_dilation=strides, rhs_dilation=dilation,
        dimension_numbers=_dimension_numbers(n, data_format, kernel_spec="OI"), precision=precision(),
    )
    return cast(y, dtype)


def conv2d_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate):
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate)


def conv3d_transpose(x, kernel, output_shape, strides, padding, data_format):
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, (1, 1, 1))


def _window(data_format, spatial):
    return (1, 1) + tuple(spatial) if data_format == "channels_first" else (1,) + tuple(spatial) + (1,)


def _pool(x, pool_size, strides, padding, data_format, pool_mode):
    n = len(pool_size)
    x, _, dtype = _prepare(x)
    pads = padding_amounts(spatial_of(x.shape, data_format), pool_size, strides, (1,) * n, padding)
    window = _window(data_format, pool_size)
    steps = _window(data_format, strides)
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


pool2d = pool3d = _pool


def _local(inputs, kernel, kernel_size, strides, output_shape, data_format):
    """Unshared-weight convolution: each output position's window, flattened in the layout of
    ``data_format`` ((window..., in) or (in, window...)), times that position's slice of ``kernel``."""
    x, (kernel,), dtype = _prepare(inputs, kernel)
    positions = math.prod(output_shape)
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
    patches = patches.reshape((x.shape[0], positions, kernel.shape[1]))
    y = jnp.einsum("bpf,pfo->bpo", patches, kernel, precision=precision())
    y = y.reshape((x.shape[0],) + tuple(output_shape) + (kernel.shape[-1],))
    if data_format == "channels_first":
        y = jnp.moveaxis(y, -1, 1)
    return cast(y, dtype)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format):
    return _local(inputs, kernel, kernel_size, strides, (static_shape(kernel)[0],), data_format)


local_conv2d = _local
