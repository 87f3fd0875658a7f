"""Reverse-mode gradients on NumPy: one vector-Jacobian rule per primitive op.

NumPy has no autodiff of its own.  A third-party autodiff library (autograd) would need every
reference body written against its wrapped namespace, so instead each primitive op that is
differentiable has a rule here, keyed like JAX's side tables: ``RULES[op](g, out, **args)`` returns the
cotangents of the tensor arguments (a dict by parameter name).  Composite ops never reach this file:
they are recorded as the primitives they are made of.  Every rule is checked against finite
differences in tests/test_gradients.py.
"""

import operator

import numpy as np

from .function import GRADIENT
from .tensor import SymbolicTensor, _leaves

RULES = {}

#: Ops whose outputs carry no gradient (integer/boolean results or piecewise constant).
NON_DIFFERENTIABLE = frozenset(
    """equal not_equal greater greater_equal less less_equal argmax argmin round sign shape size any all
    one_hot in_top_k arange random_normal random_uniform random_binomial random_bernoulli truncated_normal
    zeros_like ones_like stop_gradient ctc_decode ctc_label_dense_to_sparse""".split()
)


def rule(*names):
    def register(fn):
        for name in names:
            RULES[name] = fn
        return fn

    return register


def unbroadcast(g, shape):
    """Sum ``g`` down to ``shape`` (undo NumPy broadcasting)."""
    g = np.asarray(g)
    shape = tuple(np.shape(shape)) if not isinstance(shape, tuple) else shape
    while g.ndim > len(shape):
        g = g.sum(axis=0)
    for i, d in enumerate(shape):
        if d == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


def _like(g, x):
    x = np.asarray(x)
    return unbroadcast(g, x.shape).astype(x.dtype, copy=False) if x.dtype.kind == "f" else None


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
    RULES[name] = lambda g, out, x: {"x": g * derivative(np.asarray(x), out)}


_unary("square", lambda x, out: 2 * x)
_unary("sqrt", lambda x, out: np.where(x > 0, 0.5 / np.where(out > 0, out, 1), 0).astype(x.dtype))
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


@rule("cast")
def _cast(g, out, x, dtype):
    x = np.asarray(x)
    return {"x": g.astype(x.dtype)} if x.dtype.kind == "f" and np.asarray(out).dtype.kind == "f" else {}


@rule("pow")
def _pow(g, out, x, a):
    return {"x": g * a * np.power(x, a - 1)}


@rule("elu")
def _elu(g, out, x, alpha):
    return {"x": g * np.where(np.asarray(x) > 0, 1, out + alpha)}


@rule("relu")
def _relu(g, out, x, alpha=0.0, max_value=None, threshold=0.0):
    x = np.asarray(x)
    slope = np.where(x >= threshold, 1.0, alpha)
    if max_value is not None:
        slope = np.where(x >= max_value, 0.0, slope)
    return {"x": (g * slope).astype(x.dtype)}


@rule("clip")
def _clip(g, out, x, min_value, max_value):
    x = np.asarray(x)
    inside = np.ones(x.shape, bool)
    if min_value is not None:
        inside &= x >= min_value
    if max_value is not None:
        inside &= x <= max_value
    return {"x": g * inside}


@rule("maximum", "minimum")
def _extremum(g, out, x, y):
    x_wins = np.asarray(x) == out
    return {"x": _like(g * x_wins, x), "y": _like(g * ~x_wins, y)}


@rule("softmax")
def _softmax(g, out, x, axis=-1):
    return {"x": out * (g - np.sum(g * out, axis=axis, keepdims=True))}


@rule("bias_add")
def _bias_add(g, out, x, bias, data_format=None):
    bias = np.asarray(bias)
    if data_format == "channels_first" and g.ndim > 2:
        moved = np.moveaxis(g, 1, -1)
        grad_bias = moved.reshape((-1,) + bias.shape).sum(axis=0) if bias.ndim == 1 else unbroadcast(
            np.moveaxis(g, 1, -1), bias.shape)
    else:
        grad_bias = unbroadcast(g, bias.shape)
    return {"x": g, "bias": grad_bias}


# --- reductions ----------------------------------------------------------------------------------

def _expand(g, x, axis, keepdims):
    x = np.asarray(x)
    if axis is None:
        return np.broadcast_to(np.reshape(g, (1,) * x.ndim), x.shape)
    if not keepdims:
        axes = sorted(a % x.ndim for a in ((axis,) if isinstance(axis, int) else axis))
        for a in axes:
            g = np.expand_dims(g, a)
    return np.broadcast_to(g, x.shape)


@rule("sum")
def _sum(g, out, x, axis=None, keepdims=False):
    return {"x": _expand(g, x, axis, keepdims).astype(np.asarray(x).dtype)}


@rule("mean")
def _mean(g, out, x, axis=None, keepdims=False):
    x = np.asarray(x)
    count = x.size / max(np.asarray(out).size, 1)
    return {"x": (_expand(g, x, axis, keepdims) / count).astype(x.dtype)}


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


# --- linear algebra and shapes -------------------------------------------------------------------

@rule("dot")
def _dot(g, out, x, y):
    x, y = np.asarray(x), np.asarray(y)
    if y.ndim == 1:
        return {"x": np.multiply.outer(g, y), "y": np.tensordot(x, g, axes=(list(range(x.ndim - 1)),) * 2)}
    k, n = y.shape[-2], y.shape[-1]
    rows = int(np.prod(x.shape[:-1], dtype=np.int64))
    batch = int(np.prod(y.shape[:-2], dtype=np.int64))
    g2 = np.reshape(g, (rows, batch, n))
    y3 = np.reshape(y, (batch, k, n))
    grad_x = np.einsum("abn,bkn->ak", g2, y3).reshape(x.shape)
    grad_y = np.einsum("ak,abn->bkn", np.reshape(x, (rows, k)), g2).reshape(y.shape)
    return {"x": grad_x, "y": grad_y}


@rule("transpose")
def _transpose(g, out, x):
    return {"x": np.transpose(g)}


@rule("permute_dimensions")
def _permute(g, out, x, pattern):
    return {"x": np.transpose(g, np.argsort(pattern))}


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


# ---------------------------------------------------------------------------------------------------


def _value(value, env):
    if value.__class__ is SymbolicTensor:
        return env[id(value)]
    if isinstance(value, list):
        return [_value(v, env) for v in value]
    if isinstance(value, tuple):
        return tuple(_value(v, env) for v in value)
    return value


def _flat_outputs(outputs):
    return [t for t in _leaves(outputs) if isinstance(t, SymbolicTensor)]


def backprop(node, env, loss_nodes, backend):
    """The value of gradient node ``node``: d sum(loss) / d wrt, by the rules above.

    One reverse sweep per loss and run: its cotangents are kept in ``env`` for the other gradient
    nodes of the same loss (a training step asks for one gradient per weight).
    """
    loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
    key = ("cotangents", id(loss))
    cotangents = env.get(key)
    if cotangents is None:
        cotangents = env[key] = _sweep(loss, env, loss_nodes, backend)
    target = env[id(wrt)] if isinstance(wrt, SymbolicTensor) else wrt.value
    grad = cotangents.get(id(wrt))
    return np.zeros_like(np.asarray(target)) if grad is None else np.asarray(grad).astype(np.asarray(target).dtype)


def _sweep(loss, env, loss_nodes, backend):
    cotangents = {id(loss): np.ones_like(np.asarray(env[id(loss)]))}
    is_variable = backend.is_variable

    def accumulate(original, grad):
        if grad is None:
            return
        if isinstance(original, (list, tuple)) and isinstance(grad, (list, tuple)):
            for o, g in zip(original, grad):
                accumulate(o, g)
            return
        if original.__class__ is SymbolicTensor or is_variable(original):
            key = id(original)
            cotangents[key] = cotangents[key] + grad if key in cotangents else grad

    for current in reversed(loss_nodes):
        outputs = _flat_outputs(current.outputs)
        grads = [cotangents.get(id(o)) for o in outputs]
        if all(g is None for g in grads) or current.fn in NON_DIFFERENTIABLE:
            continue
        if current.fn == GRADIENT:
            raise NotImplementedError("gradients of gradients are not implemented on the numpy backend")
        vjp = RULES.get(current.fn)
        if vjp is None:
            name = current.fn if isinstance(current.fn, str) else getattr(current.fn, "__name__", current.fn)
            raise NotImplementedError(f"gradient of {name} is not implemented on the numpy backend")
        args = {}
        for k, v in current.kwargs.items():
            v = _value(v, env)
            args[k] = v.value if not isinstance(v, list) and is_variable(v) else v
        if len(outputs) == 1:
            g, out = grads[0], env[id(outputs[0])]
        else:
            g = [gr if gr is not None else np.zeros_like(env[id(o)]) for gr, o in zip(grads, outputs)]
            out = [env[id(o)] for o in outputs]
        for param, grad in vjp(g, out, **args).items():
            accumulate(current.kwargs[param], grad)
    return cotangents
