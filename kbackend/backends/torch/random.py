"""Random tensors from a torch.Generator seeded with the op's ``seed`` (an int by the time it arrives)."""

import math

import torch

from .variables import DTYPES, Tensor, default_device, generator_on

_HALVES = (torch.float16, torch.bfloat16)


def _shape(shape):
    if isinstance(shape, tuple):
        return shape
    if isinstance(shape, Tensor):
        return tuple(int(d) for d in shape.reshape(-1).tolist())
    return tuple(int(d) for d in shape)


# torch: a torch.Generator seeded by the op's seed, on the default device (every random op here)
def random_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    device = default_device()
    out = torch.empty(_shape(shape), dtype=DTYPES[dtype], device=device)
    return out.normal_(mean, stddev, generator=generator_on(seed, device))


def random_uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    device = default_device()
    target = DTYPES[dtype]
    gen = generator_on(seed, device)
    if not target.is_floating_point:
        return torch.randint(int(minval), int(maxval), _shape(shape), generator=gen, dtype=target, device=device)
    return torch.empty(_shape(shape), dtype=target, device=device).uniform_(minval, maxval, generator=gen)


def random_bernoulli(shape, p=0.0, dtype=None, seed=None):
    device = default_device()
    draws = torch.rand(_shape(shape), generator=generator_on(seed, device), device=device)
    return (draws < p).to(DTYPES[dtype])


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    # Inverse-CDF sampling of the normal restricted to ±2 standard deviations: the same distribution as
    # re-drawing, with no data-dependent loop (no device sync).
    device = default_device()
    target = DTYPES[dtype]
    work = torch.float32 if target in _HALVES else target
    # erf(-2/√2): the uniform draws map onto (-2σ, 2σ); each step runs in place on one buffer.
    low = math.erf(-2.0 / math.sqrt(2.0))
    values = torch.empty(_shape(shape), dtype=work, device=device).uniform_(low, -low,
                                                                           generator=generator_on(seed, device))
    values.erfinv_().mul_(math.sqrt(2.0)).clamp_(-2.0, 2.0).mul_(stddev).add_(mean)
    return values.to(target)
