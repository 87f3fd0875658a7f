"""Conditionals and gradient stops on PyTensor (loops over an unknown length use ``pytensor.scan``)."""

import numpy as np

import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad
from pytensor.ifelse import ifelse

from .variable import cast, concrete, eager, is_graph, is_tracing, to_pt


def _value(branch):
    return branch() if callable(branch) else branch


def _select(condition, then_expression, else_expression):
    condition, then_value, else_value = to_pt(condition), to_pt(then_expression), to_pt(else_expression)
    if condition.ndim == 0:
        if then_value.ndim == else_value.ndim:
            return ifelse(pt.neq(condition, 0), then_value, cast(else_value, then_value.dtype))
        return pt.switch(pt.neq(condition, 0), then_value, else_value)
    if condition.ndim > then_value.ndim:
        raise ValueError(
            f"switch: argument `condition` got rank {condition.ndim}; expected a rank at most that of "
            f"`then_expression` ({then_value.ndim})"
        )
    condition = pt.neq(condition, 0)
    condition = condition.dimshuffle(list(range(condition.ndim)) + ["x"] * (then_value.ndim - condition.ndim))
    return pt.switch(condition, then_value, else_value)


_eager_select = eager(_select, "switch")


def switch(condition, then_expression, else_expression):
    # branches may be callables: called first (the chosen one only, for a concrete scalar condition),
    # so that the compiled graph is keyed by values, never by a closure
    if not is_tracing() and not is_graph(condition) and np.ndim(concrete(condition)) == 0:
        chosen = then_expression if concrete(condition) else else_expression
        return np.array(concrete(_value(chosen)))
    return _eager_select(condition, _value(then_expression), _value(else_expression))


def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [disconnected_grad(to_pt(v)) for v in variables]
    return disconnected_grad(to_pt(variables))
