"""Argument rules of the control-flow ops, each stated once.

``rnn``, ``map_fn``, ``foldl`` and ``foldr`` declare their checks here (``check=`` in
:func:`kbackend._dispatch.op`); they run on the arguments before dispatch, so no engine restates them.
``switch`` may take callable branches, whose ranks are known only once called: each engine calls
:func:`check_switch_ranks` with them.  Unknown dimensions pass.
"""

from .conv_rules import static_shape


def check_switch_ranks(condition_rank, then_rank):
    """An elementwise ``switch`` broadcasts ``condition`` along the leading axes of its branches."""
    if condition_rank is not None and then_rank is not None and condition_rank > then_rank:
        raise ValueError(
            f"switch: argument `condition` got rank {condition_rank}; expected a rank at most that of "
            f"`then_expression` ({then_rank})"
        )


def rnn(step_function, inputs, initial_states, go_backwards, mask, constants, unroll, input_length):
    shape = static_shape(inputs)
    if shape is None:
        return
    if len(shape) < 3:
        raise ValueError(f"rnn: argument `inputs` got shape {shape}; expected (batch, time, ...), rank >= 3")
    if mask is not None:
        mask_shape = static_shape(mask)
        if mask_shape is not None and (
                len(mask_shape) < 2 or any(m != s and None not in (m, s) for m, s in zip(mask_shape[:2], shape[:2]))
                or mask_shape[2:] not in ((), (1,))):
            raise ValueError(f"rnn: argument `mask` got shape {mask_shape}; expected {tuple(shape[:2])} like `inputs`")
    if shape[1] == 0:
        raise ValueError(f"rnn: argument `inputs` got shape {shape}; expected at least one time step")


def _elements(func, elems, empty):
    """``elems`` of a loop: a non-empty list, or a tensor of rank >= 1 (with at least one element along
    its first axis unless ``empty`` is allowed)."""
    if isinstance(elems, (list, tuple)):
        if not elems:
            raise ValueError(f"{func}: argument `elems` got an empty list; expected a tensor or a non-empty list")
        return
    shape = static_shape(elems)
    if shape == ():
        raise ValueError(f"{func}: argument `elems` got shape (); expected a tensor with a static first dimension")
    if shape and shape[0] == 0 and not empty:
        raise ValueError(f"{func}: argument `elems` got an empty first dimension; expected at least one element"
                         + ("" if func == "map_fn" else " when `initializer` is None"))


def map_fn(fn, elems, name, dtype):
    _elements("map_fn", elems, empty=False)


def foldl(fn, elems, initializer, name):
    _elements("foldl", elems, empty=initializer is not None)


def foldr(fn, elems, initializer, name):
    _elements("foldr", elems, empty=initializer is not None)
