"""Activations, dropout, normalisation and bias on torch's fused kernels."""

import torch
import torch.nn.functional as F

from .variables import Tensor, generator_on, to_tensor


def relu(x, alpha=0.0, max_value=None, threshold=0.0):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if threshold == 0.0:
        if max_value is None:
            return torch.relu(x) if alpha == 0.0 else F.leaky_relu(x, alpha)
        if alpha == 0.0:
            return torch.clamp(x, 0, max_value)
        positive = torch.clamp(x, 0, max_value)
    else:
        positive = x * (x > threshold)
        if max_value is not None:
            positive = torch.clamp(positive, 0, max_value)
    if alpha != 0.0:
        positive = positive - alpha * torch.clamp_min(threshold - x, 0)
    return positive if positive.dtype is x.dtype else positive.to(x.dtype)


def elu(x, alpha=1.0):
    return F.elu(x if x.__class__ is Tensor else to_tensor(x), alpha)


def softmax(x, axis=-1):
    return torch.softmax(x if x.__class__ is Tensor else to_tensor(x), axis)


def softplus(x):
    return F.softplus(x if x.__class__ is Tensor else to_tensor(x))


def sigmoid(x):
    return torch.sigmoid(x if x.__class__ is Tensor else to_tensor(x))


def tanh(x):
    return torch.tanh(x if x.__class__ is Tensor else to_tensor(x))


def dropout(x, level, noise_shape=None, seed=None):
    if x.__class__ is not Tensor:
        x = to_tensor(x)
    if noise_shape is None:
        noise_shape = x.shape
    else:
        noise_shape = tuple(x.shape[i] if d is None else d for i, d in enumerate(noise_shape))
    keep = torch.rand(noise_shape, generator=generator_on(seed, x.device), device=x.device) >= level
    out = x * (1.0 / (1.0 - level)) * keep
    return out if out.dtype is x.dtype else out.to(x.dtype)


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
    out = x + bias
    return out if out.dtype is x.dtype else out.to(x.dtype)
