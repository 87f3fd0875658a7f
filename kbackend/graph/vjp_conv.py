"""Vector-Jacobian rules of convolutions, pooling, local convolutions, resizing and zero padding.

Same contract as :mod:`.vjp` (``RULES[op](g, out, **args)`` → cotangents by parameter name), written
with the reference kernels of :mod:`kbackend.ops.convolution` on channels-last arrays: the input
gradient of a convolution is a transposed convolution and that of a transposed convolution is a
convolution; kernel gradients contract the sliding windows of one side with the other.  Pooling and
local convolutions scatter per-window cotangents back with one strided slice per window tap, so no
Python loop runs over output positions.  Cotangents take the dtype of the input they belong to.
"""

import math

import numpy as np

from ..ops import convolution as kernels
from ..ops.checks import spatial_axes
from ..ops.shape import bilinear_axis
from .vjp import RULES, rule


def _channels_last(value, data_format, work):
    return kernels.to_channels_last(np.asarray(value), data_format).astype(work, copy=False)


def _back(value, data_format, like):
    """A channels-last cotangent in the layout and dtype of the input ``like``."""
    return kernels.from_channels_last(value, data_format, np.asarray(like).dtype)


def _cast(value, like):
    return np.asarray(value).astype(np.asarray(like).dtype, copy=False)


def _contract_windows(patches, other, n):
    """Sum over batch and positions of windows ``(batch, out..., c, window...)`` times ``other``
    ``(batch, out..., k)``: ``(window..., c, k)``."""
    batch_and_positions = list(range(n + 1))
    return np.moveaxis(np.tensordot(patches, other, axes=(batch_and_positions, batch_and_positions)), 0, n)


def _scatter(values, spatial, strides, dilation):
    """The adjoint of :func:`kernels.windows`: add per-window values ``(batch, out..., channels, window...)``
    back onto a channels-last array of ``spatial`` shape (one strided slice per window tap)."""
    n = len(strides)
    out, channels, window = values.shape[1:n + 1], values.shape[n + 1], values.shape[n + 2:]
    grad = np.zeros((values.shape[0],) + tuple(spatial) + (channels,), values.dtype)
    for tap in np.ndindex(*window):
        target = (slice(None),) + tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, s, o in zip(tap, dilation, strides, out)
        )
        grad[target] += values[(Ellipsis,) + tap]
    return grad


def _same_pads(spatial, window, strides, dilation, padding):
    if padding != "same":
        return [(0, 0)] * len(spatial)
    return [kernels.same_padding(length, kernels.effective_size(w, d), s)
            for length, w, d, s in zip(spatial, window, dilation, strides)]


def _crop(value, pads):
    return value[(slice(None),) + tuple(slice(before, value.shape[i + 1] - after)
                                        for i, (before, after) in enumerate(pads))]


# --- convolutions --------------------------------------------------------------------------------

def _conv(func):
    def conv_rule(g, out, x, kernel, strides, padding, data_format, dilation_rate):
        work = kernels.working_dtype(np.asarray(x).dtype)
        xl, gl = _channels_last(x, data_format, work), _channels_last(g, data_format, work)
        k = np.asarray(kernel).astype(work, copy=False)
        n = k.ndim - 2
        left = 0
        if padding == "causal":
            left = dilation_rate[0] * (k.shape[0] - 1)
            xl = np.pad(xl, [(0, 0), (left, 0), (0, 0)])
            padding = "valid"
        grad_x = kernels.convolve_transpose(gl, k, xl.shape[1:-1], strides, padding, dilation_rate)
        patches = kernels.windows(xl, k.shape[:n], strides, dilation_rate, padding)
        return {"x": _back(grad_x[:, left:], data_format, x),
                "kernel": _cast(_contract_windows(patches, gl, n), kernel)}

    return conv_rule


RULES["conv1d"] = _conv("conv1d")
RULES["conv2d"] = _conv("conv2d")
RULES["conv3d"] = _conv("conv3d")


def _conv_transpose(func):
    def transpose_rule(g, out, x, kernel, output_shape, strides, padding, data_format, dilation_rate=None):
        work = kernels.working_dtype(np.asarray(x).dtype)
        xl, gl = _channels_last(x, data_format, work), _channels_last(g, data_format, work)
        k = np.asarray(kernel).astype(work, copy=False)
        n = k.ndim - 2
        dilation = dilation_rate or (1,) * n
        grad_x = kernels.convolve(gl, k, strides, padding, dilation)
        patches = kernels.windows(gl, k.shape[:n], strides, dilation, padding)
        return {"x": _back(grad_x, data_format, x), "kernel": _cast(_contract_windows(patches, xl, n), kernel)}

    return transpose_rule


RULES["conv2d_transpose"] = _conv_transpose("conv2d_transpose")
RULES["conv3d_transpose"] = _conv_transpose("conv3d_transpose")


def _depthwise_grads(func, gl, xl, depthwise_kernel, strides, padding, dilation):
    """Channels-last cotangents of :func:`kernels.depthwise` (output channel ``c * multiplier + m``):
    the input's through a transposed convolution with the block-diagonal full kernel."""
    n = depthwise_kernel.ndim - 2
    window = depthwise_kernel.shape[:n]
    channels, multiplier = depthwise_kernel.shape[n:]
    full = np.zeros(window + (channels, channels * multiplier), depthwise_kernel.dtype)
    source = np.arange(channels)[:, None]
    full[..., source, source * multiplier + np.arange(multiplier)] = depthwise_kernel
    grad_x = kernels.convolve_transpose(gl, full, xl.shape[1:-1], strides, padding, dilation)
    patches = kernels.windows(xl, window, strides, dilation, padding)
    positions = math.prod(patches.shape[:n + 1])
    taps = math.prod(window)
    grad_kernel = np.einsum("pct,pcm->tcm", patches.reshape(positions, channels, taps),
                            gl.reshape(positions, channels, multiplier))
    return grad_x, grad_kernel.reshape(depthwise_kernel.shape)


@rule("depthwise_conv2d")
def _depthwise_conv2d(g, out, x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    work = kernels.working_dtype(np.asarray(x).dtype)
    xl, gl = _channels_last(x, data_format, work), _channels_last(g, data_format, work)
    k = np.asarray(depthwise_kernel).astype(work, copy=False)
    grad_x, grad_k = _depthwise_grads("depthwise_conv2d", gl, xl, k, strides, padding, dilation_rate)
    return {"x": _back(grad_x, data_format, x), "depthwise_kernel": _cast(grad_k, depthwise_kernel)}


def _separable(func):
    def separable_rule(g, out, x, depthwise_kernel, pointwise_kernel, strides, padding, data_format,
                       dilation_rate):
        work = kernels.working_dtype(np.asarray(x).dtype)
        xl, gl = _channels_last(x, data_format, work), _channels_last(g, data_format, work)
        dk = np.asarray(depthwise_kernel).astype(work, copy=False)
        pk = np.asarray(pointwise_kernel).astype(work, copy=False)
        n = dk.ndim - 2
        pk2 = pk.reshape(pk.shape[n:])
        between = kernels.depthwise(xl, dk, strides, padding, dilation_rate)
        positions = list(range(n + 1))
        grad_pk = np.tensordot(between, gl, axes=(positions, positions)).reshape(pk.shape)
        grad_between = np.tensordot(gl, pk2, axes=([-1], [1]))
        grad_x, grad_dk = _depthwise_grads(func, grad_between, xl, dk, strides, padding, dilation_rate)
        return {"x": _back(grad_x, data_format, x), "depthwise_kernel": _cast(grad_dk, depthwise_kernel),
                "pointwise_kernel": _cast(grad_pk, pointwise_kernel)}

    return separable_rule


RULES["separable_conv1d"] = _separable("separable_conv1d")
RULES["separable_conv2d"] = _separable("separable_conv2d")


# --- pooling -------------------------------------------------------------------------------------

def _pool(func):
    def pool_rule(g, out, x, pool_size, strides, padding, data_format, pool_mode):
        """Max pooling routes each window's cotangent to its first maximum (as TensorFlow); average
        pooling spreads it over the real elements of the window."""
        work = kernels.working_dtype(np.asarray(x).dtype)
        xl, gl = _channels_last(x, data_format, work), _channels_last(g, data_format, work)
        n = len(pool_size)
        ones = (1,) * n
        pads = _same_pads(xl.shape[1:-1], pool_size, strides, ones, padding)
        padded = tuple(length + before + after for length, (before, after) in zip(xl.shape[1:-1], pads))
        if pool_mode == "max":
            patches = kernels.windows(xl, pool_size, strides, ones, padding, pad_value=-np.inf)
            flat = patches.reshape(patches.shape[:n + 2] + (-1,))
            winner = np.arange(flat.shape[-1]) == flat.argmax(axis=-1)[..., None]
            values = (winner * gl[..., None]).reshape(patches.shape)
        else:
            if padding == "valid":
                count = math.prod(pool_size)
            else:
                real = np.ones((1,) + xl.shape[1:-1] + (1,), work)
                count = kernels.windows(real, pool_size, strides, ones, padding).sum(
                    axis=tuple(range(-n, 0)))
            values = np.broadcast_to((gl / count)[(Ellipsis,) + (None,) * n], gl.shape + tuple(pool_size))
        grad = _crop(_scatter(values, padded, strides, ones), pads)
        return {"x": _back(grad, data_format, x)}

    return pool_rule


RULES["pool2d"] = _pool("pool2d")
RULES["pool3d"] = _pool("pool3d")


# --- unshared-weight (local) convolutions ----------------------------------------------------------

def _local_grads(func, g, inputs, kernel, kernel_size, strides, output_shape, data_format):
    """Patches are flattened in the caller's layout ((window..., in) for channels_last, (in, window...)
    for channels_first) and multiplied by each position's slice of ``kernel`` (positions, features,
    filters)."""
    work = kernels.working_dtype(np.asarray(inputs).dtype)
    xl, gl = _channels_last(inputs, data_format, work), _channels_last(g, data_format, work)
    k = np.asarray(kernel).astype(work, copy=False)
    n = len(kernel_size)
    ones = (1,) * n
    patches = kernels.windows(xl, kernel_size, strides, ones, "valid")
    patches = patches[(slice(None),) + tuple(slice(0, o) for o in output_shape)]
    if data_format == "channels_last":
        patches = np.moveaxis(patches, n + 1, -1)
    layout = patches.shape
    batch, positions = xl.shape[0], math.prod(output_shape)
    flat = patches.reshape(batch, positions, -1)
    g3 = gl.reshape(batch, positions, k.shape[-1])
    grad_kernel = np.einsum("bpk,bpf->pkf", flat, g3)
    grad_patches = np.einsum("bpf,pkf->bpk", g3, k).reshape(layout)
    if data_format == "channels_last":
        grad_patches = np.moveaxis(grad_patches, -1, n + 1)
    grad_x = _scatter(grad_patches, xl.shape[1:-1], strides, ones)
    return {"inputs": _back(grad_x, data_format, inputs), "kernel": _cast(grad_kernel, kernel)}


@rule("local_conv1d")
def _local_conv1d(g, out, inputs, kernel, kernel_size, strides, data_format):
    return _local_grads("local_conv1d", g, inputs, kernel, kernel_size, strides, (np.shape(kernel)[0],),
                        data_format)


@rule("local_conv2d")
def _local_conv2d(g, out, inputs, kernel, kernel_size, strides, output_shape, data_format):
    return _local_grads("local_conv2d", g, inputs, kernel, kernel_size, strides, output_shape, data_format)


# --- resizing and zero padding -------------------------------------------------------------------

@rule("resize_images")
def _resize_images(g, out, x, height_factor, width_factor, data_format, interpolation="nearest"):
    """Nearest: each pixel collects its block.  Bilinear: the transposed interpolation matrix of each
    axis, built by the reference's own sampling applied to an identity."""
    x = np.asarray(x)
    if not (x.dtype.kind == "f" or x.dtype.name == "bfloat16"):
        return {}
    rows, cols = spatial_axes(data_format, 2)
    grad = np.asarray(g)
    for axis, factor in ((rows, height_factor), (cols, width_factor)):
        size = x.shape[axis]
        if interpolation == "nearest":
            grad = grad.reshape(grad.shape[:axis] + (size, factor) + grad.shape[axis + 1:]).sum(axis=axis + 1)
        else:
            work = np.float64 if x.dtype == np.float64 else np.float32
            matrix = bilinear_axis(np.eye(size, dtype=work), 0, factor)
            grad = np.moveaxis(np.tensordot(grad, matrix, axes=([axis], [0])), -1, axis)
    return {"x": _cast(grad, x)}


def _unpad(g, axes, pairs):
    index = [slice(None)] * np.ndim(g)
    for axis, (before, after) in zip(axes, pairs):
        index[axis] = slice(before, np.shape(g)[axis] - after)
    return np.asarray(g)[tuple(index)]


@rule("temporal_padding")
def _temporal_padding(g, out, x, padding):
    return {"x": _unpad(g, (1,), (padding,))}


@rule("spatial_2d_padding")
def _spatial_2d_padding(g, out, x, padding, data_format):
    return {"x": _unpad(g, spatial_axes(data_format, 2), padding)}


@rule("spatial_3d_padding")
def _spatial_3d_padding(g, out, x, padding, data_format):
    return {"x": _unpad(g, spatial_axes(data_format, 3), padding)}
