"""Reverse-mode gradients on NumPy: one vector-Jacobian rule per primitive op.

NumPy has no autodiff of its own.  A third-party autodiff library (autograd) would need every
reference body written against its wrapped namespace, so instead each primitive op that is
differentiable has a rule here, keyed like JAX's side tables: ``RULES[op](g, out, **args)`` returns the
cotangents of the tensor arguments (a dict by parameter name).  Composite ops never reach this file:
they are recorded as the primitives they are made of.  Convolutions, pooling, resizing and padding
have their rules in :mod:`.vjp_conv`.  Every rule is checked against finite differences of the
reference by ``test_gradient`` in tests/test_conformance.py.
"""

import operator

import numpy as np

from ..dtypes import is_floating
from ..ops.ctc import ctc_batch_cost_vjp
from ..ops.math import batch_dot_axes
from ..ops.namespace import log_softmax
from .node import SeedStream, SymbolicTensor, leaves, map_structure
from .program import FED, GRADIENT

#: The one registry of gradient rules: op name (or Python operator) → vector-Jacobian rule.  The rules
#: of elementwise, reduction, shape and loss ops are below; those of convolutions, pooling and padding
#: register from :mod:`.vjp_conv`, which the package imports with this module.
RULES = {}


def rule(*names):
    def register(fn):
        for name in names:
            RULES[name] = fn
        return fn

    return register

#: Ops whose outputs carry no gradient (integer/boolean results or piecewise constant).
NON_DIFFERENTIABLE = frozenset(
    """equal not_equal greater greater_equal less less_equal argmax argmin round sign shape size any all
    one_hot in_top_k arange random_normal random_uniform random_binomial random_bernoulli truncated_normal
    zeros_like ones_like stop_gradient ctc_decode ctc_label_dense_to_sparse""".split()
)


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (undo NumPy broadcasting)."""
    g = np.asarray(g)
    shape = tuple(np.shape(shape)) if not isinstance(shape, tuple) else shape
    if g.shape == shape:
        return g
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, d in enumerate(shape):
        if d == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def _like(g, x):
    x = np.asarray(x)
    return unbroadcast(g, x.shape).astype(x.dtype, copy=False) if is_floating(x.dtype) else None


# --- Python operators ------------------------------------------------------------------------------

@rule(operator.add)
def _add(g, out, arg0, arg1):
    return {"arg0": _like(g, arg0), "arg1": _like(g, arg1)}


@rule(operator.sub)
def _sub(g, out, arg0, arg1):
    return {"arg0": _like(g, arg0), "arg1": _like(-g, arg1)}


@rule(operator.mul)
def _mul(g, out, arg0, arg1):
    return {"arg0": _like(g * arg1, arg0), "arg1": _like(g * arg0, arg1)}


@rule(operator.truediv)
def _div(g, out, arg0, arg1):
    return {"arg0": _like(g / arg1, arg0), "arg1": _like(-g * arg0 / np.square(arg1), arg1)}


@rule(operator.pow)
def _pow_op(g, out, arg0, arg1):
    base = np.asarray(arg0)
    with np.errstate(all="ignore"):
        log_base = np.where(base > 0, np.log(np.where(base > 0, base, 1)), 0)
    return {"arg0": _like(g * arg1 * np.power(base, np.asarray(arg1) - 1), arg0),
            "arg1": _like(g * out * log_base, arg1)}


@rule(operator.neg)
def _neg(g, out, arg0):
    return {"arg0": -g}


@rule(operator.pos)
def _pos(g, out, arg0):
    return {"arg0": g}


@rule(operator.abs, "abs")
def _abs(g, out, arg0=None, x=None):
    value = arg0 if x is None else x
    return {"arg0" if x is None else "x": g * np.sign(value)}


@rule(operator.matmul)
def _matmul(g, out, arg0, arg1):
    a, b = np.asarray(arg0), np.asarray(arg1)
    return {"arg0": _like(g @ np.swapaxes(b, -1, -2), a), "arg1": _like(np.swapaxes(a, -1, -2) @ g, b)}


@rule(operator.getitem)
def _getitem(g, out, arg0, arg1):
    grad = np.zeros_like(np.asarray(arg0))
    np.add.at(grad, arg1, g)
    return {"arg0": grad}


# --- elementwise ---------------------------------------------------------------------------------

def _unary(name, derivative):
    def vjp(g, out, x, **options):
        with np.errstate(divide="ignore", invalid="ignore"):
            return {"x": g * derivative(np.asarray(x), out)}

    RULES[name] = vjp


def _sqrt_derivative(x, out):
    """Keras 2's sqrt is ``sqrt(maximum(x, 0))``: infinite at 0 (as TensorFlow's), 0 below."""
    return np.where(x >= 0, 0.5 / out, 0).astype(x.dtype)


_unary("square", lambda x, out: 2 * x)
_unary("sqrt", _sqrt_derivative)
_unary("exp", lambda x, out: out)
_unary("log", lambda x, out: 1 / x)
_unary("sin", lambda x, out: np.cos(x))
_unary("cos", lambda x, out: -np.sin(x))
_unary("tanh", lambda x, out: 1 - np.square(out))
_unary("sigmoid", lambda x, out: out * (1 - out))
_unary("softplus", lambda x, out: 1 / (1 + np.exp(-x)))
_unary("softsign", lambda x, out: 1 / np.square(1 + np.abs(x)))
_unary("identity", lambda x, out: np.ones_like(x))
_unary("print_tensor", lambda x, out: np.ones_like(x))


@rule("dropout")
def _dropout(g, out, x, level, noise_shape=None, seed=None):
    from .._dispatch import OPS

    # The same seed draws the same mask: the cotangent is dropped and scaled exactly like x was.
    return {"x": OPS["dropout"].reference(np.asarray(g), level, noise_shape, seed)}


@rule("cast")
def _cast(g, out, x, dtype):
    x = np.asarray(x)
    return {"x": g.astype(x.dtype)} if is_floating(x.dtype) and is_floating(np.asarray(out).dtype) else {}


@rule("pow")
def _pow(g, out, x, a):
    base, exponent = np.asarray(x), np.asarray(a)
    with np.errstate(all="ignore"):
        log_base = np.where(base > 0, np.log(np.where(base > 0, base, 1)), 0)
        return {"x": _like(g * exponent * np.power(base, exponent - 1), base),
                "a": _like(g * out * log_base, exponent)}


@rule("elu")
def _elu(g, out, x, alpha):
    return {"x": g * np.where(np.asarray(x) > 0, 1, out + alpha)}


@rule("relu")
def _relu(g, out, x, alpha=0.0, max_value=None, threshold=0.0):
    """The engines' convention: the slope at a kink is the one on its left (relu'(0) = 0)."""
    x = np.asarray(x)
    if not alpha and max_value is None:
        return {"x": _like(g * (x > threshold), x)}
    slope = np.where(x > threshold, 1.0, alpha)
    if max_value is not None:
        slope = np.where(x >= max_value, 0.0, slope)
    return {"x": (g * slope).astype(x.dtype)}


@rule("clip")
def _clip(g, out, x, min_value, max_value):
    """``maximum(minimum(x, max_value), min_value)`` as TensorFlow's clip_by_value: ties go to ``x``."""
    x = np.asarray(x)
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) and max_value < min_value:
        max_value = min_value
    low = None if min_value is None else np.asarray(min_value)
    high = None if max_value is None else np.asarray(max_value)
    inner = x if high is None else np.minimum(x, high)
    grads = {}
    if low is not None:
        grads["min_value"] = _like(np.where(inner < low, g, 0), low)
        g = np.where(inner < low, 0, g)
    if high is not None:
        grads["max_value"] = _like(np.where(x > high, g, 0), high)
        g = np.where(x > high, 0, g)
    grads["x"] = _like(g, x)
    return grads


@rule("maximum", "minimum")
def _extremum(g, out, x, y):
    x_wins = np.asarray(x) == out
    return {"x": _like(g * x_wins, x), "y": _like(g * ~x_wins, y)}


@rule("softmax")
def _softmax(g, out, x, axis=-1):
    return {"x": out * (g - np.sum(g * out, axis=axis, keepdims=True))}


@rule("bias_add")
def _bias_add(g, out, x, bias, data_format=None):
    """A full-rank bias is reshaped (not transposed) to ``(channels, spatial...)`` for channels_first."""
    bias = np.asarray(bias)
    if data_format == "channels_first" and g.ndim > 2:
        summed = g.sum(axis=0)
        grad_bias = summed.reshape(bias.shape) if bias.ndim > 1 else summed.reshape(bias.size, -1).sum(axis=1)
    else:
        grad_bias = unbroadcast(g, bias.shape)
    return {"x": _like(g, x), "bias": _like(grad_bias, bias)}


@rule("_softmax_cross_entropy")
def _softmax_xent(g, out, target, output, axis=-1):
    """loss = -sum(t * log_softmax(z)): dz = g * (softmax(z) * sum(t) - t), dt = -g * log_softmax(z)."""
    z, t = np.asarray(output), np.asarray(target)
    log_probabilities = log_softmax(z, axis)
    g = g[..., None] if axis in (-1, z.ndim - 1) else np.expand_dims(g, axis)

    def grad_output():
        full = t if t.shape == z.shape else np.broadcast_to(t, np.broadcast_shapes(t.shape, z.shape))
        return _like(g * (np.exp(log_probabilities) * full.sum(axis=axis, keepdims=True) - full), z)

    return {"output": grad_output, "target": lambda: _like(-g * log_probabilities, t)}


@rule("_sparse_softmax_cross_entropy")
def _sparse_softmax_xent(g, out, target, output):
    """loss = -log_softmax(z)[id]: dz = g * (softmax(z) - one_hot(id)) where the id is a class."""
    z = np.asarray(output)
    ids = np.asarray(target).astype(np.int64)
    valid = (ids >= 0) & (ids < z.shape[-1])
    grad = np.exp(log_softmax(z, -1))
    np.put_along_axis(grad, np.where(valid, ids, 0)[..., None], np.take_along_axis(
        grad, np.where(valid, ids, 0)[..., None], axis=-1) - 1, axis=-1)
    return {"output": (np.where(valid, g, 0)[..., None] * grad).astype(z.dtype)}


@rule("_sigmoid_cross_entropy")
def _sigmoid_xent(g, out, target, output):
    """loss = max(x, 0) - x t + log(1 + exp(-|x|)): dx = g * (sigmoid(x) - t), dt = -g * x."""
    x, t = np.asarray(output), np.asarray(target)
    wide = x.astype(np.float32) if x.dtype.itemsize < 4 else x
    return {"output": lambda: _like(g * (0.5 * (1 + np.tanh(0.5 * wide)) - t), x),
            "target": lambda: _like(-g * wide, t)}


# --- reductions ----------------------------------------------------------------------------------

def _expand(g, x, axis, keepdims):
    """``g`` (a reduction's cotangent or output) reshaped so that it broadcasts against ``x``."""
    ndim = np.ndim(x)
    if axis is None:
        return np.reshape(g, (1,) * ndim)
    if keepdims:
        return g
    shape = list(np.shape(x))
    for a in (axis,) if isinstance(axis, int) else axis:
        shape[a % ndim] = 1
    return np.reshape(g, shape)


def _filled(g, x, scale=None):
    """A new array shaped and typed like ``x`` holding ``g`` (broadcast), times ``scale`` if given."""
    x = np.asarray(x)
    out = np.empty(x.shape, x.dtype)
    if scale is None:
        np.copyto(out, g, casting="unsafe")
    else:
        np.multiply(g, scale, out=out, casting="unsafe")
    return out


@rule("sum")
def _sum(g, out, x, axis=None, keepdims=False):
    return {"x": _filled(_expand(g, x, axis, keepdims), x)}


@rule("mean")
def _mean(g, out, x, axis=None, keepdims=False):
    count = np.size(x) / max(np.size(out), 1)
    return {"x": _filled(_expand(g, x, axis, keepdims), x, 1.0 / count)}


@rule("max", "min")
def _max(g, out, x, axis=None, keepdims=False):
    x = np.asarray(x)
    hits = x == _expand(out, x, axis, keepdims)
    counts = _expand(np.sum(hits, axis=axis, keepdims=keepdims), x, axis, keepdims)
    return {"x": (_expand(g, x, axis, keepdims) * hits / counts).astype(x.dtype)}


@rule("prod")
def _prod(g, out, x, axis=None, keepdims=False):
    x = np.asarray(x)
    with np.errstate(all="ignore"):
        grad = _expand(g * out, x, axis, keepdims) / x
    return {"x": np.nan_to_num(grad).astype(x.dtype)}


@rule("var")
def _var(g, out, x, axis=None, keepdims=False):
    x = np.asarray(x)
    count = x.size / max(np.asarray(out).size, 1)
    centred = x - np.mean(x, axis=axis, keepdims=True)
    return {"x": (_expand(g, x, axis, keepdims) * 2 * centred / count).astype(x.dtype)}


@rule("std")
def _std(g, out, x, axis=None, keepdims=False):
    x = np.asarray(x)
    count = x.size / max(np.asarray(out).size, 1)
    centred = x - np.mean(x, axis=axis, keepdims=True)
    with np.errstate(all="ignore"):
        grad = _expand(g / out, x, axis, keepdims) * centred / count
    return {"x": np.nan_to_num(grad).astype(x.dtype)}


@rule("logsumexp")
def _logsumexp(g, out, x, axis=None, keepdims=False):
    x = np.asarray(x)
    return {"x": (_expand(g, x, axis, keepdims) * np.exp(x - _expand(out, x, axis, keepdims))).astype(x.dtype)}


@rule("cumsum")
def _cumsum(g, out, x, axis=0):
    return {"x": np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis)}


@rule("cumprod")
def _cumprod(g, out, x, axis=0):
    """TensorFlow's rule: the reversed cumulative sum of ``g * out``, divided by ``x``."""
    x = np.asarray(x)
    if not is_floating(x.dtype):
        return {}
    with np.errstate(all="ignore"):
        grad = np.flip(np.cumsum(np.flip(g * out, axis), axis=axis), axis) / x
    return {"x": grad.astype(x.dtype)}


# --- linear algebra and shapes -------------------------------------------------------------------

@rule("dot")
def _dot(g, out, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim == 1:
        return {"x": np.multiply.outer(g, y), "y": np.tensordot(x, g, axes=(list(range(x.ndim - 1)),) * 2)}
    lead = x.ndim - 1  # out = x.shape[:-1] + y.shape[:-2] + y.shape[-1:]
    if lead == 1 and y.ndim == 2:  # the common case, straight to BLAS; thunks: only what is wanted
        return {"x": lambda: g @ y.T, "y": lambda: x.T @ g}
    y_free = [a for a in range(y.ndim) if a != y.ndim - 2]
    grad_x = np.tensordot(g, y, axes=(list(range(lead, g.ndim)), y_free))
    grad_y = np.moveaxis(np.tensordot(x, g, axes=(list(range(lead)),) * 2), 0, -2)
    return {"x": grad_x, "y": grad_y}


@rule("batch_dot")
def _batch_dot(g, out, x, y, axes=None):
    """The reference moves the contracted axes to the ends and runs one batched matmul: undo both."""
    a, b = np.asarray(x), np.asarray(y)
    ax, ay = batch_dot_axes(a.shape, b.shape, axes)
    moved_a, moved_b = np.moveaxis(a, ax, -1), np.moveaxis(b, ay, 1)
    batch, depth = a.shape[0], moved_a.shape[-1]
    rows = int(np.prod(moved_a.shape[1:-1], dtype=np.int64))
    cols = int(np.prod(moved_b.shape[2:], dtype=np.int64))
    g3 = np.reshape(g, (batch, rows, cols))
    grad_a = np.matmul(g3, np.swapaxes(moved_b.reshape(batch, depth, cols), 1, 2))
    grad_b = np.matmul(np.swapaxes(moved_a.reshape(batch, rows, depth), 1, 2), g3)
    return {"x": _like(np.moveaxis(grad_a.reshape(moved_a.shape), -1, ax), a),
            "y": _like(np.moveaxis(grad_b.reshape(moved_b.shape), 1, ay), b)}


@rule("transpose")
def _transpose(g, out, x):
    return {"x": np.transpose(g)}


@rule("permute_dimensions")
def _permute(g, out, x, pattern):
    return {"x": np.transpose(g, np.argsort(pattern))}


@rule("to_dense")
def _to_dense(g, out, tensor):
    return {"tensor": g}


@rule("reshape", "batch_flatten", "flatten", "expand_dims", "squeeze")
def _reshape(g, out, x, *args, **kwargs):
    return {"x": np.reshape(g, np.shape(x))}


@rule("concatenate")
def _concatenate(g, out, tensors, axis=-1):
    sizes = np.cumsum([np.shape(t)[axis] for t in tensors])[:-1]
    return {"tensors": np.split(g, sizes, axis=axis)}


@rule("stack")
def _stack(g, out, x, axis=0):
    return {"x": [np.take(g, i, axis=axis) for i in range(len(x))]}


@rule("gather")
def _gather(g, out, reference, indices):
    grad = np.zeros_like(np.asarray(reference))
    np.add.at(grad, np.asarray(indices), g)
    return {"reference": grad}


@rule("reverse")
def _reverse(g, out, x, axes):
    return {"x": np.flip(g, axes)}


@rule("repeat_elements")
def _repeat_elements(g, out, x, rep, axis):
    shape = np.shape(x)
    axis %= len(shape)
    return {"x": np.reshape(g, shape[:axis] + (shape[axis], rep) + shape[axis + 1:]).sum(axis=axis + 1)}


@rule("tile")
def _tile(g, out, x, n):
    shape = np.shape(x)
    multiples = [int(m) for m in np.reshape(n, -1)]
    multiples = [1] * (len(shape) - len(multiples)) + multiples
    interleaved = [d for pair in zip(multiples, shape) for d in pair]
    return {"x": np.reshape(g, interleaved).sum(axis=tuple(range(0, 2 * len(shape), 2)))}


@rule("slice")
def _slice(g, out, x, start, size):
    x = np.asarray(x)
    start, size = [int(v) for v in np.reshape(start, -1)], [int(v) for v in np.reshape(size, -1)]
    grad = np.zeros_like(x)
    grad[tuple(slice(b, None if n == -1 else b + n) for b, n in zip(start, size))] = g
    return {"x": grad}


@rule("switch")
def _switch(g, out, condition, then_expression, else_expression):
    cond = np.asarray(condition)
    if callable(then_expression) or callable(else_expression):
        return {}
    then_value, else_value = np.asarray(then_expression), np.asarray(else_expression)
    while cond.ndim < g.ndim:
        cond = cond[..., None]
    cond = cond.astype(bool)
    return {"then_expression": _like(np.where(cond, g, 0), then_value),
            "else_expression": _like(np.where(cond, 0, g), else_value)}


RULES["ctc_batch_cost"] = ctc_batch_cost_vjp


# ---------------------------------------------------------------------------------------------------


def _value(value, env, is_variable):
    """``value`` with symbolic tensors (and seeds) looked up in ``env`` and variables read."""
    return map_structure(lambda v: env[id(v)] if v.__class__ in FED else v.value if is_variable(v) else v, value)


def _accumulate(cotangents, key, grad):
    cotangents[key] = cotangents[key] + grad if key in cotangents else grad


def _flat_outputs(outputs):
    return [t for t in leaves(outputs) if isinstance(t, SymbolicTensor)]


class BackwardPlan:
    """The reverse sweep of one loss, worked out once per function and run on each call.

    Only the nodes that lead from a target (anything differentiated against this loss) to the loss
    take part, and for each of them only the arguments that lead back to a target get a cotangent:
    a training step does not pay for the gradient of its input batch.
    """

    def __init__(self, loss, loss_nodes, targets, backend):
        self.loss = loss
        self.is_variable = backend.is_variable
        relevant = {id(t) for t in targets}
        for node in loss_nodes:
            if any(id(v) in relevant for v in leaves(node.kwargs)):
                relevant.update(id(o) for o in _flat_outputs(node.outputs))

        def wanted(original):
            if isinstance(original, (list, tuple)):
                return any(wanted(o) for o in original)
            return id(original) in relevant

        self.steps = []
        for node in reversed(loss_nodes):
            outputs = _flat_outputs(node.outputs)
            if node.fn in NON_DIFFERENTIABLE or not any(id(o) in relevant for o in outputs):
                continue
            if node.fn == GRADIENT:
                raise NotImplementedError("gradients of gradients are not implemented on the numpy backend")
            vjp = RULES.get(node.fn) if isinstance(node.fn, str) or callable(node.fn) and not hasattr(node.fn, "vjp") \
                else node.fn.vjp  # a loop over an unknown length carries its own rule
            if vjp is None:
                name = node.fn if isinstance(node.fn, str) else getattr(node.fn, "__name__", node.fn)
                raise NotImplementedError(f"gradient of {name} is not implemented on the numpy backend")
            self.steps.append(self._step(vjp, node, outputs, wanted, relevant))

    def _step(self, vjp, node, outputs, wanted, relevant):
        """What the sweep needs of one node, sorted out once: where each argument comes from (the run's
        environment, a variable's current value, a constant) and which cotangents to keep."""
        constants, fed, variables, nested = {}, [], [], []
        for name, value in node.kwargs.items():
            if value.__class__ is SymbolicTensor or value.__class__ is SeedStream:
                fed.append((name, id(value)))
            elif isinstance(value, (list, tuple)):
                nested.append((name, value))
            elif self._is_variable(value):
                variables.append((name, value))
            else:
                constants[name] = value
        keep = [(param, [id(o) if id(o) in relevant else None for o in original]
                 if isinstance(original, (list, tuple)) else id(original))
                for param, original in node.kwargs.items() if wanted(original)]
        out = id(outputs[0]) if len(outputs) == 1 else [id(o) for o in outputs]
        return vjp, constants, fed, variables, nested, out, keep

    def _is_variable(self, value):
        try:
            return bool(self.is_variable(value))
        except Exception:  # noqa: BLE001 - callables and other values that are not tensors
            return False

    def sweep(self, env):
        """Cotangents (id of tensor or variable → gradient of sum(loss)) for this run's ``env``."""
        loss = env[id(self.loss)]
        cotangents = {id(self.loss): np.ones_like(np.asarray(loss))}
        for vjp, constants, fed, variables, nested, out, keep in self.steps:
            if out.__class__ is int:
                g = cotangents.get(out)
                if g is None:
                    continue
                value = env[out]
            else:
                grads = [cotangents.get(o) for o in out]
                if all(gr is None for gr in grads):
                    continue
                g = [gr if gr is not None else np.zeros_like(env[o]) for gr, o in zip(grads, out)]
                value = [env[o] for o in out]
            args = constants.copy()
            for name, key in fed:
                args[name] = env[key]
            for name, variable in variables:
                args[name] = variable.value
            for name, structure in nested:
                args[name] = _value(structure, env, self._is_variable)
            result = vjp(g, value, **args)
            for param, keys in keep:
                grad = result.get(param)
                if grad is None:
                    continue
                if callable(grad):
                    grad = grad()
                if keys.__class__ is int:
                    _accumulate(cotangents, keys, grad)
                elif isinstance(grad, (list, tuple)):
                    for key, item in zip(keys, grad):
                        if key is not None and item is not None:
                            _accumulate(cotangents, key, item)
        return cotangents

    @staticmethod
    def gradient(wrt, cotangents, env):
        """The gradient for target ``wrt``, in its dtype (zeros where the loss does not depend on it)."""
        target = np.asarray(env[id(wrt)] if wrt.__class__ is SymbolicTensor else wrt.value)
        grad = cotangents.get(id(wrt))
        if grad is None:
            return np.zeros_like(target)
        grad = np.asarray(grad)
        # A cotangent may be a broadcast (read-only) view; callers get an array of their own.
        return grad if grad.dtype == target.dtype and grad.flags.writeable else grad.astype(target.dtype)
