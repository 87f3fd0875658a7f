"""Convolution, transposed convolution, pooling and local convolution on torch.nn.functional.

torch computes channels-first ``(batch, channels, spatial...)``.  A channels_last input is handed over as
a permuted view, which is exactly torch's channels_last memory format, so no data moves; the result is
permuted back the same way.  Keras kernels ``(spatial..., in, out)`` become torch weights
``(out, in, spatial...)`` by a permuted view too.  TensorFlow's 'same' padding is passed to the kernel
when it is symmetric; only an odd total (the extra element goes after) or 'causal' pads the input
explicitly.  The op's check (:mod:`kbackend.ops.conv_rules`) has run before any function here.
"""

import math

import torch
import torch.nn.functional as F

from ...ops.conv_rules import effective_size, padding_amounts, split_output_shape, static_shape, transpose_crops
from .variables import Tensor, to_tensor

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_MAX_POOL = {2: F.max_pool2d, 3: F.max_pool3d}
_AVG_POOL = {2: F.avg_pool2d, 3: F.avg_pool3d}
_HALVES = (torch.float16, torch.bfloat16)


def _prepare(x, kernels, data_format):
    """``x`` as a channels-first view in its working dtype, the kernels in that dtype, and the output
    dtype.  Integer and bool inputs work in float64, as in the reference."""
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    dtype = x.dtype
    if not x.is_floating_point():
        x = x.to(torch.float64)
    weights = []
    for kernel in kernels:
        if kernel.__class__ is not Tensor:
            kernel = to_tensor(kernel, x.device)
        weights.append(kernel if kernel.dtype is x.dtype else kernel.to(x.dtype))
    if data_format == "channels_last":
        x = x.movedim(-1, 1)
    return x, weights, dtype


def _finish(y, data_format, dtype):
    if y.dtype is not dtype:
        y = y.to(dtype)
    return y.movedim(1, -1) if data_format == "channels_last" else y


def _split_padding(x, pads, value=0.0):
    """Symmetric padding for the kernel; an asymmetric one is applied to ``x`` here instead."""
    if all(before == after for before, after in pads):
        return x, [before for before, _ in pads]
    flat = []
    for before, after in reversed(pads):
        flat += [before, after]
    return F.pad(x, flat, value=value), [0] * len(pads)


def _convolve(x, weight, window, strides, padding, dilation, groups=1):
    """Cross-correlation of channels-first ``x`` with a torch ``weight``; 'same' padded as TF does."""
    pads = padding_amounts(x.shape[2:], window, strides, dilation, padding)
    x, symmetric = _split_padding(x, pads)
    return _CONV[len(window)](x, weight, None, strides, symmetric, dilation, groups)


def _weight(kernel):
    """Keras ``(spatial..., in, out)`` → torch ``(out, in, spatial...)``, a view."""
    n = kernel.dim() - 2
    return kernel.permute(n + 1, n, *range(n))


def _depthwise(x, kernel, strides, padding, dilation):
    n = kernel.dim() - 2
    channels, multiplier = kernel.shape[n], kernel.shape[n + 1]
    weight = kernel.reshape(tuple(kernel.shape[:n]) + (channels * multiplier,)).movedim(-1, 0).unsqueeze(1)
    return _convolve(x, weight, tuple(kernel.shape[:n]), strides, padding, dilation, groups=channels)


def _conv(x, kernel, strides, padding, data_format, dilation_rate):
    x, (kernel,), dtype = _prepare(x, (kernel,), data_format)
    y = _convolve(x, _weight(kernel), tuple(kernel.shape[:len(strides)]), strides, padding, dilation_rate)
    return _finish(y, data_format, dtype)


conv1d = conv3d = _conv


def conv2d(x, kernel, strides, padding, data_format, dilation_rate):
    # The common call (float tensors of one dtype, undilated, 'valid' or symmetric 'same') goes straight
    # to the kernel, without the generic path's helpers; the op's check has run.  Each test below is
    # there because the generic path costs ~2 µs more at small sizes, where Keras models spend most calls.
    if x.__class__ is Tensor and kernel.__class__ is Tensor and dilation_rate == (1, 1):
        dtype = x.dtype
        if dtype is kernel.dtype and dtype in _FAST_DTYPES:
            last = data_format == "channels_last"
            if padding == "valid":
                pad = 0
            else:
                pad = _same_padding(x.shape[1:3] if last else x.shape[2:], kernel.shape[:2], strides)
            if pad is not None:
                weight = kernel.permute(3, 2, 0, 1)
                if last:
                    x = x.permute(0, 3, 1, 2)
                # Default stride and padding are not passed: parsing them costs ~0.4 µs a call.
                y = F.conv2d(x, weight) if pad == 0 and strides == (1, 1) else F.conv2d(x, weight, None, strides, pad)
                return y.permute(0, 2, 3, 1) if last else y
    return _conv(x, kernel, strides, padding, data_format, dilation_rate)


_FAST_DTYPES = frozenset((torch.float32, torch.float64))


def _same_padding(spatial, window, strides):
    """The kernel's padding for a symmetric 'same' (per-side amounts); None when it is asymmetric."""
    pads = padding_amounts(spatial, window, strides, (1, 1), "same")
    return tuple(before for before, _ in pads) if all(before == after for before, after in pads) else None


def _separable(x, depthwise_kernel, pointwise_kernel, strides, padding, data_format, dilation_rate):
    x, (depthwise, pointwise), dtype = _prepare(x, (depthwise_kernel, pointwise_kernel), data_format)
    y = _depthwise(x, depthwise, strides, padding, dilation_rate)
    y = _CONV[len(strides)](y, _weight(pointwise))
    return _finish(y, data_format, dtype)


separable_conv1d = separable_conv2d = _separable


def depthwise_conv2d(x, depthwise_kernel, strides, padding, data_format, dilation_rate):
    x, (kernel,), dtype = _prepare(x, (depthwise_kernel,), data_format)
    return _finish(_depthwise(x, kernel, strides, padding, dilation_rate), data_format, dtype)


# ---------------------------------------------------------------------------------------------------
# transposed convolution


def _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation):
    n = len(strides)
    x, (kernel,), dtype = _prepare(x, (kernel,), data_format)
    out_spatial = split_output_shape(output_shape, data_format)[2]
    in_spatial = tuple(x.shape[2:])
    window = tuple(kernel.shape[:n])
    crop = transpose_crops(in_spatial, out_spatial, window, strides, dilation, padding)
    extra = [max(out - ((length - 1) * s + effective_size(w, d) - 2 * before), 0)
             for length, out, w, s, d, before in zip(in_spatial, out_spatial, window, strides, dilation, crop)]
    weight = kernel.permute(n + 1, n, *range(n))
    y = _CONV_TRANSPOSE[n](x, weight, None, strides, crop, extra, 1, dilation)
    for axis, out in enumerate(out_spatial, 2):
        if y.shape[axis] != out:
            y = y.narrow(axis, 0, out)
    return _finish(y, data_format, dtype)


def conv2d_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate):
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, dilation_rate)


def conv3d_transpose(x, kernel, output_shape, strides, padding, data_format):
    return _conv_transpose(x, kernel, output_shape, strides, padding, data_format, (1, 1, 1))


# ---------------------------------------------------------------------------------------------------
# pooling


def _pool(x, pool_size, strides, padding, data_format, pool_mode):
    n = len(pool_size)
    x, _, dtype = _prepare(x, (), data_format)
    if n == 3 and pool_mode == "avg" and x.dtype in _HALVES and x.device.type == "cpu":
        x = x.to(torch.float32)  # torch has no CPU avg_pool3d kernel for float16/bfloat16
    pads = padding_amounts(x.shape[2:], pool_size, strides, (1,) * n, padding)
    if pool_mode == "max":
        x, symmetric = _split_padding(x, pads, value=-math.inf)
        y = _MAX_POOL[n](x, pool_size, strides, symmetric)
    elif all(before == after for before, after in pads):
        y = _AVG_POOL[n](x, pool_size, strides, [before for before, _ in pads], count_include_pad=False)
    else:
        # Asymmetric 'same': window sums over the zero-padded input divided by the count of real elements.
        total, _ = _split_padding(x, pads)
        ones, _ = _split_padding(torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device), pads)
        y = _AVG_POOL[n](total, pool_size, strides, divisor_override=1)
        y = y / _AVG_POOL[n](ones, pool_size, strides, divisor_override=1)
    return _finish(y, data_format, dtype)


pool2d = pool3d = _pool


# ---------------------------------------------------------------------------------------------------
# unshared-weight convolution


def _local(inputs, kernel, kernel_size, strides, output_shape, data_format):
    n = len(kernel_size)
    x, (kernel,), dtype = _prepare(inputs, (kernel,), data_format)
    x = x.movedim(1, -1)
    positions = math.prod(output_shape)
    patches = x
    for axis, (k, s, out) in enumerate(zip(kernel_size, strides, output_shape), 1):
        patches = patches.unfold(axis, k, s).narrow(axis, 0, out)  # (batch, out..., channels, window...)
    if data_format == "channels_last":
        patches = patches.movedim(n + 1, -1)
    patches = patches.reshape(x.shape[0], positions, kernel.shape[1])
    y = torch.bmm(patches.transpose(0, 1), kernel).transpose(0, 1)
    y = y.reshape((x.shape[0],) + tuple(output_shape) + (kernel.shape[-1],))
    return _finish(y.movedim(-1, 1), data_format, dtype)


def local_conv1d(inputs, kernel, kernel_size, strides, data_format):
    return _local(inputs, kernel, kernel_size, strides, (static_shape(kernel)[0],), data_format)


local_conv2d = _local
