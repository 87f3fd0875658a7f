"""Control flow, the RNN loop, folds, CTC and graph helpers on JAX.

``rnn`` (``unroll=False``), ``map_fn``, ``foldl`` and ``foldr`` trace the user's function once into
``lax.scan`` / ``lax.map``.  A function that needs concrete values (Python ``if`` on a tensor, NumPy
conversion, a carry whose dtype drifts) cannot be traced: those fall back to the reference's Python loop,
which gives the same results eagerly.
"""

import functools
import sys

import numpy as np

import jax
import jax.numpy as jnp
from jax import lax

from ... import config
from ..._dispatch import OPS
from ...ops.ctc import SparseTensor
from ...ops.control_rules import check_switch_ranks
from .arrays import always_x64, cast, is_tracer, jax_dtype, to_jax, unwrap

#: What a traced user function raises when it needs concrete values (JAX's tracer errors are
#: TypeError/IndexError subclasses) or returns a carry of another type.
_UNTRACEABLE = (TypeError, IndexError, ValueError)


def _value(branch):
    return branch() if callable(branch) else branch


# ---------------------------------------------------------------------------------------------------
# conditionals and graph helpers


# jax: a traced scalar condition selects with where (Python if needs a concrete value)
def switch(condition, then_expression, else_expression):
    condition = to_jax(condition)
    if condition.ndim == 0:
        if is_tracer(condition):
            return jnp.where(condition, to_jax(_value(then_expression)), to_jax(_value(else_expression)))
        return to_jax(_value(then_expression if condition else else_expression))
    then_value = to_jax(_value(then_expression))
    else_value = to_jax(_value(else_expression))
    check_switch_ranks(condition.ndim, then_value.ndim)
    condition = cast(condition, jnp.bool_).reshape(condition.shape + (1,) * (then_value.ndim - condition.ndim))
    return jnp.where(condition, then_value, else_value)


# jax: lax.stop_gradient
def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [lax.stop_gradient(to_jax(v)) for v in variables]
    return lax.stop_gradient(to_jax(variables))


# jax: a traced value prints through jax.debug.print
def print_tensor(x, message=""):
    value = unwrap(x)
    if is_tracer(value):
        jax.debug.print(message.replace("{", "{{").replace("}", "}}") + "{}", value)
    else:
        print(f"{message}{np.asarray(value)}", file=sys.stdout)
    return x


# ---------------------------------------------------------------------------------------------------
# the RNN loop


def _reference(name):
    return OPS[name].reference


def _as_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


def _select(keep, new, old):
    keep = cast(keep, jnp.bool_)
    return jnp.where(keep.reshape(keep.shape + (1,) * (new.ndim - keep.ndim)), new, old)


# jax: the steps after the first run in one lax.scan; untraceable step functions fall back to the reference loop
def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    args = (step_function, inputs, initial_states, go_backwards, mask, constants, unroll, input_length)
    shape = np.shape(unwrap(inputs))
    if unroll or len(shape) < 3 or shape[1] < 2:
        return _reference("rnn")(*args)
    if mask is not None:
        mask_shape = np.shape(unwrap(mask))
        if tuple(mask_shape[:2]) != tuple(shape[:2]) or mask_shape[2:] not in ((), (1,)):
            return _reference("rnn")(*args)
    try:
        return _scan_rnn(step_function, to_jax(inputs), [to_jax(s) for s in initial_states or ()],
                         go_backwards, None if mask is None else to_jax(mask),
                         [to_jax(c) for c in constants or ()])
    except _UNTRACEABLE:
        return _reference("rnn")(*args)


def _scan_rnn(step_function, inputs, states, go_backwards, mask, constants):
    """The first step runs eagerly (it fixes the output's shape); the others run in one ``lax.scan``."""
    steps = jnp.moveaxis(inputs, 1, 0)
    masks = None if mask is None else jnp.moveaxis(mask, 1, 0)
    if go_backwards:
        steps = steps[::-1]
        masks = None if masks is None else masks[::-1]

    def step(output, states, input_t, mask_t):
        new_output, new_states = step_function(input_t, list(states) + constants)
        new_output, new_states = to_jax(new_output), [to_jax(s) for s in _as_list(new_states)]
        if mask_t is not None:
            new_output = _select(mask_t, new_output, output)
            new_states = [_select(mask_t, new, old) for new, old in zip(new_states, states)]
        return new_output, new_states

    first_output, first_states = step_function(steps[0], list(states) + constants)
    first_output = to_jax(first_output)
    first_states = [to_jax(s) for s in _as_list(first_states)]
    if masks is not None:
        first_output = _select(masks[0], first_output, jnp.zeros_like(first_output))
        first_states = [_select(masks[0], new, old) for new, old in zip(first_states, states)]

    def body(carry, xs):
        output, states = carry
        input_t, mask_t = xs
        output, states = step(output, states, input_t, mask_t)
        return (output, states), output

    (last_output, last_states), outputs = lax.scan(
        body, (first_output, first_states), (steps[1:], None if masks is None else masks[1:])
    )
    outputs = jnp.concatenate([first_output[None], outputs], axis=0)
    return last_output, jnp.moveaxis(outputs, 0, 1), list(last_states)


# ---------------------------------------------------------------------------------------------------
# higher-order functions


# jax: lax.map, with the reference's loop for untraceable functions
def map_fn(fn, elems, name=None, dtype=None):
    try:
        result = lax.map(lambda element: to_jax(fn(element)), to_jax(elems))
    except _UNTRACEABLE:
        return _reference("map_fn")(fn, elems, name, dtype)
    return result if dtype is None else cast(result, jax_dtype(dtype))


def _fold(fn, elems, initializer, reverse):
    elems = to_jax(elems)
    if initializer is None:
        initializer, elems = (elems[-1], elems[:-1]) if reverse else (elems[0], elems[1:])
    if elems.shape[0] == 0:
        return initializer
    carry, _ = lax.scan(lambda acc, x: (fn(acc, x), None), initializer, elems, reverse=reverse)
    return carry


# jax: lax.scan, with the reference's loop for untraceable functions
def foldl(fn, elems, initializer=None, name=None):
    try:
        return _fold(fn, elems, initializer, reverse=False)
    except _UNTRACEABLE:
        return _reference("foldl")(fn, elems, initializer, name)


# jax: as foldl, reversed
def foldr(fn, elems, initializer=None, name=None):
    try:
        return _fold(fn, elems, initializer, reverse=True)
    except _UNTRACEABLE:
        return _reference("foldr")(fn, elems, initializer, name)


# ---------------------------------------------------------------------------------------------------
# CTC


def _host(x):
    return np.asarray(unwrap(x))


# jax: the reference on host values (int64 indices need the 64-bit scope)
@always_x64
def ctc_label_dense_to_sparse(labels, label_lengths):
    sparse = _reference("ctc_label_dense_to_sparse")(_host(labels), _host(label_lengths))
    return SparseTensor(tuple(jnp.asarray(part) for part in sparse))


#: log(0) in the CTC recursion: finite, so gradients through impossible paths are 0 rather than NaN.
_LOG_ZERO = -1e30


def _is_traced(*values):
    return any(is_tracer(v) for v in values)


@functools.partial(jax.jit, static_argnames=("epsilon",))
def _ctc_losses(probabilities, labels, input_lengths, label_lengths, epsilon):
    """The CTC forward algorithm in log space over ``lax.scan``, vectorised over the batch."""
    log_probs = jax.nn.log_softmax(jnp.log(probabilities + epsilon), axis=-1)
    batch, steps, classes = log_probs.shape
    blank = classes - 1
    kept = jnp.arange(labels.shape[1])[None, :] < label_lengths[:, None]
    extended = jnp.full((batch, 2 * labels.shape[1] + 1), blank, jnp.int32)
    extended = extended.at[:, 1::2].set(jnp.where(kept, labels, blank))
    can_skip = jnp.zeros(extended.shape, bool).at[:, 3::2].set(extended[:, 3::2] != extended[:, 1:-2:2])
    picked = jnp.take_along_axis(log_probs, extended[:, None, :], axis=2)
    impossible = jnp.full((batch, 2), _LOG_ZERO, log_probs.dtype)
    alpha = jnp.where(jnp.arange(extended.shape[1]) == 0, 0.0, _LOG_ZERO).astype(log_probs.dtype)
    alpha = jnp.broadcast_to(alpha, extended.shape)

    def advance(alpha, xs):
        picked_t, t = xs
        one_back = jnp.concatenate([impossible[:, :1], alpha[:, :-1]], axis=1)
        two_back = jnp.concatenate([impossible, alpha[:, :-2]], axis=1)
        reached = jnp.logaddexp(jnp.logaddexp(alpha, one_back), jnp.where(can_skip, two_back, _LOG_ZERO))
        return jnp.where((t < input_lengths)[:, None], reached + picked_t, alpha), None

    alpha, _ = lax.scan(advance, alpha, (jnp.moveaxis(picked, 1, 0), jnp.arange(steps)))
    last = 2 * label_lengths
    end = jnp.take_along_axis(alpha, jnp.stack([last, last - 1], axis=1), axis=1)
    ends_in_label = jnp.where(label_lengths > 0, end[:, 1], _LOG_ZERO)  # an empty label ends only in a blank
    log_likelihood = jnp.logaddexp(end[:, 0], ends_in_label)
    return jnp.where(log_likelihood > _LOG_ZERO / 2, -log_likelihood, jnp.inf)


def _ctc_dtype(y_pred):
    dtype = y_pred.dtype
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.dtype(config.floatx())
    return dtype


def _lengths(value):
    """Per-sample lengths ``(batch,)`` or ``(batch, 1)`` as an int32 vector."""
    return cast(to_jax(value).reshape(-1), jnp.int32)


# jax: the forward recursion in log space over lax.scan, jitted and differentiable
def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    y_pred = to_jax(y_pred)
    dtype = _ctc_dtype(y_pred)
    work = jnp.float64 if dtype == jnp.float64 else jnp.float32
    losses = _ctc_losses(cast(y_pred, work), cast(to_jax(y_true), jnp.int32), _lengths(input_length),
                         _lengths(label_length), float(config.epsilon()))
    return cast(losses[:, None], dtype)


# jax: the reference's search on host values, through pure_callback while traced
@always_x64
def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    y_pred, input_length = to_jax(y_pred), to_jax(input_length)
    dtype = _ctc_dtype(y_pred)
    decode = _reference("ctc_decode")

    def host(probabilities, lengths):
        decoded, scores = decode(np.asarray(probabilities), np.asarray(lengths), greedy, beam_width, top_paths,
                                 merge_repeated)
        return (*decoded, np.asarray(scores, dtype=np.float64))

    probabilities = cast(y_pred, jnp.float64)
    if _is_traced(probabilities, input_length):
        paths = 1 if greedy else top_paths
        batch, steps = y_pred.shape[:2]
        shapes = [jax.ShapeDtypeStruct((batch, steps), jnp.int64)] * paths
        shapes.append(jax.ShapeDtypeStruct((batch, paths), jnp.float64))
        results = jax.pure_callback(host, tuple(shapes), probabilities, input_length)
    else:
        results = [jnp.asarray(r) for r in host(probabilities, input_length)]
    return list(results[:-1]), cast(results[-1], dtype)
