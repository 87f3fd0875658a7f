"""Activations, dropout, normalisation and bias on torch's fused kernels."""

import numpy as np
import torch
import torch.nn.functional as F

from ..._dispatch import OPS
from ...ops.checks import checked_axis
from ...ops.nn import noise_mask_shape
from .variables import Tensor, generator_on, to_tensor

_HALVES = (torch.float16, torch.bfloat16)


def _number(value):
    """Keras's activation layers pass ``K.cast_to_floatx(alpha)``, a 0-d ndarray, where torch's fused
    kernels take only a Python number."""
    return value.item() if value.__class__ is np.ndarray and value.ndim == 0 else value


# torch: clamp for the saturation; an int or bool x cast back to its dtype
def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    alpha, max_value, threshold = _number(alpha), _number(max_value), _number(threshold)
    if threshold == 0.0:
        if max_value is None:
            return torch.relu(x) if alpha == 0.0 else F.leaky_relu(x, alpha)
        positive = torch.clamp(x, 0, max_value)  # a float bound makes an int or bool x float: cast back below
        if alpha == 0.0:
            return positive if positive.dtype is x.dtype else positive.to(x.dtype)
    else:
        positive = x * (x > threshold)
        if max_value is not None:
            positive = torch.clamp(positive, 0, max_value)
    if alpha != 0.0:
        positive = positive - alpha * torch.clamp_min(threshold - x, 0)
    return positive if positive.dtype is x.dtype else positive.to(x.dtype)


def elu(x, alpha=1.0):
    return F.elu(x if x.__class__ is Tensor else to_tensor(x), _number(alpha))


def softmax(x, axis=-1):
    return torch.softmax(x if x.__class__ is Tensor else to_tensor(x), axis)


def softplus(x):
    return F.softplus(x if x.__class__ is Tensor else to_tensor(x))


def sigmoid(x):
    return torch.sigmoid(x if x.__class__ is Tensor else to_tensor(x))


def tanh(x):
    return torch.tanh(x if x.__class__ is Tensor else to_tensor(x))


# torch: a torch.Generator seeded by the op's seed
def dropout(x, level, noise_shape=None, seed=None):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    noise_shape = noise_mask_shape(tuple(x.shape), noise_shape)
    keep = torch.rand(noise_shape, generator=generator_on(seed, x.device), device=x.device) >= level
    out = x * (1.0 / (1.0 - level)) * keep
    return out if out.dtype is x.dtype else out.to(x.dtype)


# torch: channels_first bias reshaped (not transposed), cast to x's dtype first, as TensorFlow's BiasAdd
def bias_add(x, bias, data_format=None):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if bias.__class__ is not Tensor:
        bias = to_tensor(bias, x.device)
    if bias.dim() != 1 and bias.dim() != x.dim() - 1:
        raise ValueError(f"bias_add: argument `bias` got a rank-{bias.dim()} tensor of shape "
                         f"{tuple(bias.shape)}; expected rank 1 or {x.dim() - 1} (ndim(x) - 1)")
    if data_format == "channels_first" and x.dim() > 2:
        if bias.dim() == 1:
            bias = bias.reshape((-1,) + (1,) * (x.dim() - 2))
        else:
            bias = bias.reshape((bias.shape[-1],) + tuple(bias.shape[:-1]))
    if bias.dtype is not x.dtype:
        bias = bias.to(x.dtype)  # bias is cast first, as TensorFlow's BiasAdd
    return torch.add(x, bias)  # not `x + bias`: a variable's operator checks for graph building first


def _per_axis(value, shape, dtype=None):
    """A rank-1 ``value`` reshaped to broadcast along the kept axes, in ``dtype`` (as the reference:
    a normalisation's parameters compute in the dtype of its input)."""
    if value is None:
        return None
    if value.__class__ is not Tensor:
        value = to_tensor(value)
    if dtype is not None and value.dtype is not dtype:
        value = value.to(dtype)
    return value.reshape(shape) if value.dim() == 1 and len(shape) > 1 else value


# torch: overrides the composite: float16/bfloat16 statistics in float32, one mean/var pass
def normalize_batch_in_training(x, gamma, beta, reduction_axes, epsilon=0.001):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if not x.is_floating_point():
        return OPS["normalize_batch_in_training"].reference(x, gamma, beta, reduction_axes, epsilon)
    rank = x.dim()
    reduced = sorted(checked_axis("normalize_batch_in_training", a, rank, "reduction_axes")
                     for a in reduction_axes)
    wide = x.to(torch.float32) if x.dtype in _HALVES else x
    mean = torch.mean(wide, dim=reduced, keepdim=True)  # var_mean's one-pass mean of inf is NaN
    var = torch.var(wide, dim=reduced, correction=0, keepdim=True)
    normed = ((wide - mean) * torch.rsqrt(var + epsilon)).to(x.dtype)
    kept = tuple(mean.shape)
    if gamma is not None:
        normed = normed * _per_axis(gamma, kept, x.dtype)
    if beta is not None:
        normed = normed + _per_axis(beta, kept, x.dtype)
    remaining = tuple(d for a, d in enumerate(x.shape) if a not in reduced)
    return normed, mean.reshape(remaining).to(x.dtype), var.reshape(remaining).to(x.dtype)


def _channel_vector(value, channels, dtype):
    return value is None or value.dim() == 1 and value.shape[0] == channels and value.dtype is dtype


# torch: overrides the composite with F.batch_norm when the statistics need no gradient
def batch_normalization(x, mean, var, beta, gamma, axis=-1, epsilon=0.001):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    mean, var, beta, gamma = (v if v is None or v.__class__ is Tensor else to_tensor(v, x.device)
                              for v in (mean, var, beta, gamma))
    rank = x.dim()
    axis = checked_axis("batch_normalization", axis, rank)
    # torch's fused kernel treats the statistics as constants: used only when nothing asks for their
    # gradient (inference with moving averages, the common case).
    if (rank >= 2 and x.is_floating_point() and mean is not None and var is not None
            and not (mean.requires_grad or var.requires_grad)
            and all(_channel_vector(v, x.shape[axis], x.dtype) for v in (mean, var, beta, gamma))):
        view = x.movedim(axis, 1) if axis != 1 else x
        y = F.batch_norm(view, mean, var, gamma, beta, False, 0.0, epsilon)
        return y.movedim(1, axis) if axis != 1 else y
    return OPS["batch_normalization"].reference(x, mean, var, beta, gamma, axis, epsilon)


# torch: overrides the composite with vector_norm (same 1e-12 floor); float16 and axis=[] keep the reference
def l2_normalize(x, axis=None):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if not x.is_floating_point() or x.dtype is torch.float16 or axis == () or axis == []:
        # float16: the reference's 1e-12 floor rounds to 0 (a zero row gives NaN, as in Keras 2), where
        # torch's 1e-6 floor on the norm does not; axis=[]: torch's vector_norm reduces every axis
        return OPS["l2_normalize"].reference(x, axis)
    # max(||x||, 1e-6) == sqrt(max(sum(x²), 1e-12)), the reference's denominator.
    return x / torch.linalg.vector_norm(x, 2, dim=axis, keepdim=True).clamp_min(1e-6)


# --- crossentropies from logits (the ops under K.*_crossentropy(from_logits=True)) ------------------


def _logits_and(target, output):
    """Logits and ``target`` in their dtype."""
    z = output if output.__class__ is Tensor else to_tensor(output)
    t = target if target.__class__ is Tensor else to_tensor(target)
    return z, t if t.dtype is z.dtype else t.to(z.dtype)


# torch: F.cross_entropy when the classes are on axis 1 with dense targets
def _softmax_cross_entropy(target, output, axis=-1):
    z, t = _logits_and(target, output)
    axis %= max(z.dim(), 1)
    if axis == 1 and t.shape == z.shape:  # torch's fused kernel takes the classes on axis 1
        loss = F.cross_entropy(z, t, reduction="none")
    else:
        loss = -(t * torch.log_softmax(z, axis)).sum(axis)
    return loss


# torch: F.cross_entropy with ids outside [0, classes) ignored (loss 0)
def _sparse_softmax_cross_entropy(target, output):
    z = output if output.__class__ is Tensor else to_tensor(output)
    ids = (target if target.__class__ is Tensor else to_tensor(target)).long()
    classes = z.shape[-1]
    # Ids outside [0, classes) are ignored (loss 0) rather than left to index out of bounds.
    ids = torch.where((ids >= 0) & (ids < classes), ids, -100)
    loss = F.cross_entropy(z.reshape(-1, classes), ids.reshape(-1), reduction="none", ignore_index=-100)
    return loss.reshape(ids.shape)


# torch: Keras 2's formula in torch names (torch's fused kernel differs at infinite logits)
def _sigmoid_cross_entropy(target, output):
    x, t = _logits_and(target, output)
    # Keras 2's (TensorFlow's) formula; torch's fused kernel rearranges it, so infinite logits give inf
    # where it gives NaN and NaN where it gives inf
    return torch.clamp_min(x, 0) - x * t + torch.log1p(torch.exp(-x.abs()))
