"""How PyTorch runs a function: an eager replay under autograd (``torch.compile`` on request).

Imported with the backend package, which hands :func:`make_runner` to :mod:`kbackend.graph.runners`
(see there for what every runner shares).
"""

import contextlib

import torch

from ...graph.node import is_symbolic
from ...graph.program import compile_program, replay
from ...graph.runners import (Gradients, combined, converter, feed_targets, function_outputs, intermediate_targets,
                              value_of)


def make_runner(fn, compile=False, jit=True):
    backend = fn.backend
    convert = converter(fn)
    grads = Gradients(fn.nodes)
    fed_targets = grads.target_ids(feed_targets)
    # Autograd records only what a loss is computed from; gradients, updates and the other outputs
    # run after it without recording.
    taped, untaped = grads.split(fn.nodes)
    watch = grads.target_ids(intermediate_targets)
    taped, untaped = (compile_program(taped, backend, watch, fn.early),
                      compile_program(untaped, backend, early=fn.early))
    higher_order = grads.nested()
    # The autograd graph must outlive one backward pass when several losses (or a gradient of a
    # gradient) walk it; otherwise its buffers are freed as soon as the one pass is done.
    retain = higher_order or len(grads.by_loss) > 1

    def gradient(node, env):
        loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
        key = ("grads", id(loss))
        found = env.get(key)
        if found is None:
            found = env[key] = {}
            loss_value = env[id(loss)]
            live = [(t, v) for t in grads.targets(loss) if not is_symbolic(t) or id(t) in env
                    for v in (value_of(t, env),) if isinstance(v, torch.Tensor) and v.requires_grad]
            if live and loss_value.requires_grad:
                with torch.enable_grad() if higher_order else contextlib.nullcontext():
                    results = torch.autograd.grad(loss_value if loss_value.dim() == 0 else loss_value.sum(),
                                                  [v for _, v in live], retain_graph=retain,
                                                  create_graph=higher_order, allow_unused=True)
                found.update((id(t), g) for (t, _), g in zip(live, results) if g is not None)
        grad = found.get(id(wrt))
        return torch.zeros_like(value_of(wrt, env)) if grad is None else grad

    def watch_value(value):
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not value.requires_grad:
            value.requires_grad_(True)
        return value

    gradient.watch = watch_value

    def apply(variable, value, substitute):
        backend.update(variable, value)
        return variable.detach().clone()

    gradient.apply = apply

    def run(feeds):
        env = convert(feeds)
        for key in fed_targets:
            value = env[key]
            if value.is_floating_point():
                env[key] = value.detach().requires_grad_(True)
        if grads:
            with torch.enable_grad():
                replay(taped, env, gradient)
        with torch.enable_grad() if higher_order else torch.no_grad():
            replay(untaped, env, gradient)
            outputs = [o.detach() if isinstance(o, torch.Tensor) else o for o in function_outputs(fn, env)]
            if fn.assignments:
                storages = {a[0].untyped_storage().data_ptr() for a in fn.assignments}
                outputs = [o.clone() if isinstance(o, torch.Tensor) and o.untyped_storage().data_ptr() in storages
                           else o for o in outputs]  # the values read, not the storage about to change
                with torch.no_grad():
                    for variable, kind, value, scale in fn.assignments:
                        _assign_torch(torch, backend, variable, kind, value_of(value, env), scale)
        return outputs

    if compile:
        return torch.compile(run)
    return run


def _assign_torch(torch, backend, variable, kind, value, scale):
    """Apply one update (under ``torch.no_grad``): in place, as a fused ``add_``/``sub_`` with the scale."""
    if value.__class__ is not torch.Tensor and isinstance(value, torch.Tensor):
        value = value.detach()  # another variable
    if isinstance(value, torch.Tensor) and value.dtype is variable.dtype and value.shape == variable.shape:
        if kind == "add":
            variable.add_(value, alpha=1 if scale is None else scale)
        elif kind == "sub":
            variable.sub_(value, alpha=1 if scale is None else scale)
        else:
            variable.copy_(value)  # the common case, without K.update's conversions
    else:
        backend.update(variable, combined(kind, variable.detach(), value, scale))
