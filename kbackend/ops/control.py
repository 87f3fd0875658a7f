"""Control flow: the RNN loop, conditionals, learning-phase selection and higher-order functions.

``switch`` is a plain op (each engine has its own conditional and select).  ``rnn``, ``in_train_phase``,
``in_test_phase``, ``map_fn``, ``foldl`` and ``foldr`` are composites: Python loops over ``K.*`` calls that
run unchanged on every eager backend; an engine with its own loop primitive (``tf.while_loop``,
``jax.lax.scan``) may override them.  The CTC ops live in :mod:`kbackend.ops.ctc`.
"""

import numbers

import numpy as np

from .. import config
from .._dispatch import K, dtype_or_none, op
from . import control_rules as rules
from . import ctc  # noqa: F401  (declares the CTC ops)
from .math import promoted
from .variables import _array


def _value(branch):
    """A branch of a conditional: called when callable."""
    return branch() if callable(branch) else branch


# ---------------------------------------------------------------------------------------------------
# conditionals


@op
def switch(condition, then_expression, else_expression):
    """Select between two tensors on ``condition``.

    A scalar ``condition`` picks one branch lazily: a branch may be a callable, and only the chosen one
    is called.  A tensor ``condition`` selects elementwise (both callables are called): its rank must
    not exceed the branches', and it is broadcast over their trailing dimensions, so a ``(batch,)``
    condition picks whole rows of ``(batch, units)`` branches.

    Raises ``ValueError`` when ``condition`` has a higher rank than ``then_expression``.

    Args:
        condition: A bool tensor or scalar.
        then_expression: The value (or a callable returning it) where ``condition`` is true.
        else_expression: The value (or a callable returning it) where ``condition`` is false.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.switch(np.array([True, False]), np.ones((2, 2)), np.zeros((2, 2))))
    array([[1., 1.],
           [0., 0.]])
    """
    condition = _array(condition)
    if condition.ndim == 0:
        return _array(_value(then_expression if condition else else_expression))
    then_value = _array(_value(then_expression))
    else_value = _array(_value(else_expression))
    rules.check_switch_ranks(condition.ndim, then_value.ndim)
    condition = condition.astype(bool).reshape(condition.shape + (1,) * (then_value.ndim - condition.ndim))
    return np.where(condition, *promoted(then_value, else_value))  # int32 and float32 branches give float32


@op(composite=True)
def in_train_phase(x, alt, training=None):
    """Return ``x`` in the training phase and ``alt`` otherwise (either may be a callable).

    ``training`` None reads :func:`learning_phase`; a Python bool or number picks a branch directly (the
    other is never called); a tensor selects with :func:`switch`.

    Args:
        x: The value (or a callable returning it) used in the training phase.
        alt: The value (or a callable returning it) used in the test phase.
        training: The learning phase to use: 0, 1, a bool tensor, or None for the global phase.

    >>> import kbackend as K
    >>> K.in_train_phase(lambda: 'dropout', lambda: 'identity', training=1)
    'dropout'
    """
    if training is None:
        training = config.learning_phase()
    if isinstance(training, (bool, numbers.Number)):
        return _value(x if training else alt)
    return K.switch(training, x, alt)


@op(composite=True)
def in_test_phase(x, alt, training=None):
    """Return ``x`` in the test phase and ``alt`` otherwise: :func:`in_train_phase` with the branches
    swapped.

    Args:
        x: The value (or a callable returning it) used in the test phase.
        alt: The value (or a callable returning it) used in the training phase.
        training: The learning phase to use: 0, 1, a bool tensor, or None for the global phase.

    >>> import kbackend as K
    >>> K.in_test_phase('test value', 'train value', training=0)
    'test value'
    """
    return K.in_train_phase(alt, x, training=training)


# ---------------------------------------------------------------------------------------------------
# the RNN loop


@op(composite=True, check=rules.rnn)
def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    """Iterate ``step_function`` over the time axis (axis 1) of ``inputs``.

    Args:
        step_function: ``step_function(input_t, states + constants) -> (output_t, new_states)``;
            ``input_t`` is ``inputs[:, t]``, ``states`` and ``new_states`` are lists of tensors.
        inputs: ``(batch, time, ...)``, rank 3 or more.
        initial_states: list of state tensors ``(batch, ...)``, possibly empty.
        go_backwards: iterate from the last step to the first; the outputs come in that order too.
        mask: ``(batch, time)`` (or ``(batch, time, 1)``), zero/False at masked steps: there the
            previous output (zeros before the first step) and the previous states are carried forward.
        constants: list of tensors appended to the states at every step.
        unroll: whether the loop is unrolled; it needs a static number of time steps.
        input_length: the number of time steps, used when ``inputs`` has no static time dimension.

    Returns:
        ``(last_output, outputs, new_states)``: ``last_output`` ``(batch, ...)`` is the output of the
        last iteration, ``outputs`` ``(batch, time, ...)`` stacks every step's output, ``new_states``
        is the list of final states.

    Raises ``ValueError`` for inputs of rank below 3, a mask whose shape does not match, or an unknown
    number of time steps.

    >>> import numpy as np, kbackend as K
    >>> def step(x, states):
    ...     total = states[0] + x
    ...     return total, [total]
    >>> last, outputs, states = K.rnn(step, np.ones((1, 3, 2)), [np.zeros((1, 2))])
    >>> outputs[0].tolist(), last.tolist()
    ([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], [[3.0, 3.0]])
    """
    shape = K.int_shape(inputs)
    steps = shape[1] if shape[1] is not None else input_length
    if not isinstance(steps, numbers.Integral):
        raise ValueError(
            f"rnn: argument `input_length` got {input_length!r}; expected an int when `inputs` has no static "
            f"time dimension (unroll={unroll!r})"
        )
    states = list(initial_states or ())
    constants = list(constants or ())
    outputs = []
    output = None
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        step_output, step_states = step_function(inputs[:, t], states + constants)
        step_states = list(step_states) if isinstance(step_states, (list, tuple)) else [step_states]
        if mask is not None:
            keep = mask[:, t]
            previous = K.zeros_like(step_output) if output is None else output
            step_output = K.switch(keep, step_output, previous)
            step_states = [K.switch(keep, new, old) for new, old in zip(step_states, states)]
        output = step_output
        states = step_states
        outputs.append(output)
    return outputs[-1], K.stack(outputs, axis=1), states


# ---------------------------------------------------------------------------------------------------
# higher-order functions


def _elements(elems):
    """``elems`` as a tensor: Keras 2 (``tf.map_fn``/``tf.foldl``) converts a list first, so a list of
    numbers (ints → int32, floats → floatx) or of tensors (stacked) is folded along its first axis,
    never concatenated by Python's ``+``."""
    if not isinstance(elems, (list, tuple)):
        return elems
    try:
        array = np.asarray(elems)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype == object:
        return K.stack(list(elems), axis=0)
    if array.dtype.kind == "f":
        return K.constant(array, dtype=config.floatx())
    if array.dtype.kind in "iu":
        return K.constant(array, dtype="int32" if np.abs(array).max() < 2**31 else "int64")
    return K.constant(array, dtype=array.dtype)


def _length(func, elems):
    shape = K.int_shape(elems)
    if not shape or shape[0] is None:
        raise ValueError(
            f"{func}: argument `elems` got shape {shape}; expected a tensor with a static first dimension"
        )
    return shape[0]


@op(composite=True, check=rules.map_fn, dtype=dtype_or_none)
def map_fn(fn, elems, name=None, dtype=None):
    """Apply ``fn`` to each slice ``elems[i]`` along the first axis and stack the results.

    ``dtype`` is the dtype of ``fn``'s outputs when it differs from that of ``elems``; the result is
    cast to it.

    Args:
        fn: A callable applied to each element.
        elems: The tensor whose first axis is iterated over.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.map_fn(lambda row: row * 2, np.array([[1, 2], [3, 4]])))
    array([[2, 4],
           [6, 8]])
    """
    elems = _elements(elems)
    count = _length("map_fn", elems)
    result = K.stack([fn(elems[i]) for i in range(count)], axis=0)
    return result if dtype is None else K.cast(result, dtype)


@op(composite=True, check=rules.foldl)
def foldl(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` along its first axis from left to right: ``acc = fn(acc, elems[i])``.

    ``initializer`` None starts from ``elems[0]`` and folds the rest.

    Args:
        fn: A callable applied to each element.
        elems: The tensor whose first axis is iterated over.
        initializer: The initial accumulator value.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.foldl(lambda acc, x: acc * 10 + x, np.array([1, 2, 3])))
    array(123)
    """
    elems = _elements(elems)
    return _fold(fn, elems, initializer, range(_length("foldl", elems)))


@op(composite=True, check=rules.foldr)
def foldr(fn, elems, initializer=None, name=None):
    """Reduce ``elems`` along its first axis from right to left: ``acc = fn(acc, elems[i])``.

    ``initializer`` None starts from ``elems[-1]`` and folds the rest.

    Args:
        fn: A callable applied to each element.
        elems: The tensor whose first axis is iterated over.
        initializer: The initial accumulator value.

    >>> import numpy as np, kbackend as K
    >>> K.eval(K.foldr(lambda acc, x: acc * 10 + x, np.array([1, 2, 3])))
    array(321)
    """
    elems = _elements(elems)
    return _fold(fn, elems, initializer, reversed(range(_length("foldr", elems))))


def _fold(fn, elems, initializer, order):
    order = iter(order)
    if initializer is None:
        accumulator = elems[next(order)]
    else:
        accumulator = initializer
    for i in order:
        accumulator = fn(accumulator, elems[i])
    return accumulator
