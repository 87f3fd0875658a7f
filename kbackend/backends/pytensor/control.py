"""Conditionals and gradient stops on PyTensor (loops over an unknown length use ``pytensor.scan``)."""

import numpy as np

import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad
from pytensor.ifelse import ifelse

from ...ops.control_rules import check_switch_ranks
from .arrays import as_type, concrete, eager, is_graph, is_tracing, to_pt


def _value(branch):
    return branch() if callable(branch) else branch


def _select(condition, then_expression, else_expression):
    condition, then_value, else_value = to_pt(condition), to_pt(then_expression), to_pt(else_expression)
    if condition.ndim == 0:
        if then_value.ndim == else_value.ndim:
            return ifelse(pt.neq(condition, 0), then_value, as_type(else_value, then_value.dtype))
        return pt.switch(pt.neq(condition, 0), then_value, else_value)
    check_switch_ranks(condition.ndim, then_value.ndim)
    condition = pt.neq(condition, 0)
    condition = condition.dimshuffle(list(range(condition.ndim)) + ["x"] * (then_value.ndim - condition.ndim))
    return pt.switch(condition, then_value, else_value)


_eager_select = eager(_select, "switch")


# pytensor: a concrete scalar condition picks its branch eagerly; otherwise one compiled select
def switch(condition, then_expression, else_expression):
    # branches may be callables: called first (the chosen one only, for a concrete scalar condition),
    # so that the compiled graph is keyed by values, never by a closure
    if not is_tracing() and not is_graph(condition) and np.ndim(concrete(condition)) == 0:
        chosen = then_expression if concrete(condition) else else_expression
        return np.array(concrete(_value(chosen)))
    return _eager_select(condition, _value(then_expression), _value(else_expression))


# pytensor: disconnected_grad
def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [disconnected_grad(to_pt(v)) for v in variables]
    return disconnected_grad(to_pt(variables))


# ---------------------------------------------------------------------------------------------------
# loops: unrolled by the reference when the length is known (or eagerly); pytensor.scan over an
# unknown length inside a traced graph (Keras 2's theano_backend used scan the same way)


def _reference(name):
    from ..._dispatch import OPS

    return OPS[name].reference


def _as_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


def _keep(mask_t, new, old):
    mask_t = pt.neq(mask_t, 0)
    if mask_t.ndim > 1:
        mask_t = mask_t.reshape((mask_t.shape[0],), ndim=1)
    mask_t = mask_t.dimshuffle([0] + ["x"] * (new.ndim - 1))
    return pt.switch(mask_t, new, as_type(old, new.dtype))


def _unknown_length(value, axis):
    return is_tracing() and is_graph(value) and value.type.shape[axis] is None


# pytensor: pytensor.scan when the time axis is unknown; otherwise the reference loop
def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    if not _unknown_length(inputs, 1) or inputs.ndim < 3:
        return _reference("rnn")(step_function, inputs, initial_states, go_backwards, mask, constants, unroll,
                                 input_length)
    import pytensor

    constants = [to_pt(c) for c in constants or ()]
    states = [to_pt(s) for s in initial_states or ()]
    steps = to_pt(inputs).dimshuffle([1, 0] + list(range(2, inputs.ndim)))
    masks = None if mask is None else to_pt(mask).dimshuffle([1, 0] + list(range(2, to_pt(mask).ndim)))
    if go_backwards:
        steps = steps[::-1]
        masks = None if masks is None else masks[::-1]
    # the first step outside the loop: it fixes the output's type (and what a mask carries before it)
    first_output, first_states = step_function(steps[0], states + constants)
    first_output, first_states = to_pt(first_output), [to_pt(s) for s in _as_list(first_states)]
    if masks is not None:
        first_output = _keep(masks[0], first_output, pt.zeros_like(first_output))
        first_states = [_keep(masks[0], new, old) for new, old in zip(first_states, states)]
    count = len(first_states)

    def body(*args):
        input_t = args[0]
        mask_t = args[1] if masks is not None else None
        carried = args[2 if masks is not None else 1:]
        output, old_states = carried[0], list(carried[1:1 + count])
        new_output, new_states = step_function(input_t, old_states + constants)
        new_output = as_type(to_pt(new_output), output.dtype)
        new_states = [as_type(to_pt(s), old.dtype) for s, old in zip(_as_list(new_states), old_states)]
        if mask_t is not None:
            new_output = _keep(mask_t, new_output, output)
            new_states = [_keep(mask_t, new, old) for new, old in zip(new_states, old_states)]
        return [new_output] + new_states

    sequences = [steps[1:]] + ([masks[1:]] if masks is not None else [])
    results = pytensor.scan(body, sequences=sequences, outputs_info=[first_output] + first_states,
                            non_sequences=constants, strict=False, return_updates=False)
    results = results if isinstance(results, (list, tuple)) else [results]
    outputs = pt.concatenate([first_output[None], results[0]], axis=0)
    last_output = outputs[-1]
    last_states = [pt.concatenate([s[None], r], axis=0)[-1] for s, r in zip(first_states, results[1:])]
    return last_output, outputs.dimshuffle([1, 0] + list(range(2, outputs.ndim))), last_states


# pytensor: pytensor.scan when the length is unknown; otherwise the reference loop
def map_fn(fn, elems, name=None, dtype=None):
    if not _unknown_length(elems, 0):
        return _reference("map_fn")(fn, elems, name, dtype)
    import pytensor

    result = pytensor.scan(lambda element: to_pt(fn(element)), sequences=[to_pt(elems)], return_updates=False)
    return result if dtype is None else as_type(result, str(np.dtype(dtype)))


def _fold(func, fn, elems, initializer, name, reverse):
    if not _unknown_length(elems, 0):
        return _reference(func)(fn, elems, initializer, name)
    import pytensor

    elems = to_pt(elems)
    if reverse:
        elems = elems[::-1]
    if initializer is None:
        initializer, elems = elems[0], elems[1:]
    initializer = to_pt(initializer)
    results = pytensor.scan(lambda x, acc: as_type(to_pt(fn(acc, x)), initializer.dtype), sequences=[elems],
                            outputs_info=[initializer], return_updates=False)
    return pt.concatenate([initializer[None], results], axis=0)[-1]


# pytensor: pytensor.scan when the length is unknown; otherwise the reference loop
def foldl(fn, elems, initializer=None, name=None):
    return _fold("foldl", fn, elems, initializer, name, reverse=False)


# pytensor: as foldl, reversed
def foldr(fn, elems, initializer=None, name=None):
    return _fold("foldr", fn, elems, initializer, name, reverse=True)
