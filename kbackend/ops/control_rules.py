"""Argument rules of the control-flow ops, each stated once.

``rnn``, ``map_fn``, ``foldl``, ``foldr`` and the CTC ops declare their checks here (``check=`` in
:func:`kbackend._dispatch.op`); they run on the arguments before dispatch, so no engine restates them.
``switch`` may take callable branches, whose ranks are known only once called: each engine calls
:func:`check_switch_ranks` with them.  Unknown dimensions pass.
"""

import numpy as np

from .._dispatch import symbolic
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


# ---------------------------------------------------------------------------------------------------
# CTC: shapes are checked whenever they are known; values (lengths, labels) when they are known at the
# call (eager arguments), not when a graph or a trace only feeds them later


def known_value(x):
    """The NumPy value of ``x`` when it is known now; None for a symbolic tensor or a traced or graph
    value."""
    if symbolic.is_symbolic is not None and symbolic.is_symbolic(x):
        return None
    try:
        value = np.asarray(x)
    except Exception:  # noqa: BLE001 - traced, symbolic, or held on a device
        try:
            value = np.asarray(x.detach().cpu())  # a torch tensor on a device is copied to the host
        except Exception:  # noqa: BLE001 - traced or symbolic: not known now, the engine computes on it
            return None
    return value if value.dtype.kind in "biuf" else None


def _batch_matches(size, batch):
    return size is None or batch is None or size == batch


def _lengths_shape(func, arg, value, batch):
    """Per-sample lengths are ``(batch,)`` or ``(batch, 1)``; returns their known values as a vector."""
    shape = static_shape(value)
    if shape is not None and not (len(shape) in (1, 2) and _batch_matches(shape[0], batch)
                                  and (len(shape) == 1 or shape[1] in (1, None))):
        raise ValueError(f"{func}: argument `{arg}` got shape {shape}; expected ({batch},) or ({batch}, 1)")
    known = known_value(value)
    return None if known is None else known.reshape(-1).astype(np.int64)


def _probabilities_shape(func, y_pred):
    """``(batch, time, num_classes)`` of ``y_pred`` (None where unknown)."""
    shape = static_shape(y_pred)
    if shape is None:
        return None, None, None
    if len(shape) != 3:
        raise ValueError(f"{func}: argument `y_pred` got shape {shape}; expected (batch, time, num_classes)")
    return shape


def _input_lengths(func, input_length, batch, steps):
    lengths = _lengths_shape(func, "input_length", input_length, batch)
    if lengths is not None and steps is not None and lengths.size and (lengths.min() < 0 or lengths.max() > steps):
        raise ValueError(f"{func}: argument `input_length` got {lengths.tolist()}; expected lengths in [0, {steps}] "
                         f"(the time steps of `y_pred`)")
    return lengths


def check_label_lengths(func, lengths, columns, inputs=None, shortest=0):
    """Known CTC ``label_length`` values lie within ``[shortest, columns of y_true]`` and at most each
    sample's known ``input_length`` (``inputs``; None: not known)."""
    if lengths.size and (lengths.min() < shortest or columns is not None and lengths.max() > columns):
        raise ValueError(f"{func}: argument `label_length` got {lengths.tolist()}; expected lengths in "
                         f"[{shortest}, {columns}] (the columns of `y_true`)")
    if inputs is not None:
        too_long = lengths > inputs
        if too_long.any():
            b = int(np.argmax(too_long))
            raise ValueError(f"{func}: argument `label_length` got {int(lengths[b])} for sample {b}; expected at "
                             f"most its input_length {int(inputs[b])}")


def _check_label_values(func, labels, lengths, classes):
    """Each kept label is a class other than the blank (the last class)."""
    kept = np.arange(labels.shape[1])[None, :] < lengths[:, None]
    invalid = kept & ((labels < 0) | (labels >= classes - 1))
    if invalid.any():
        raise ValueError(f"{func}: argument `y_true` got label {int(labels[invalid][0])}; expected labels in "
                         f"[0, {classes - 1}) (class {classes - 1} is the blank)")


def ctc_label_dense_to_sparse(labels, label_lengths):
    shape = static_shape(labels)
    if shape is not None and len(shape) != 2:
        raise ValueError(f"ctc_label_dense_to_sparse: argument `labels` got shape {shape}; "
                         f"expected (batch, max_label_len)")
    _lengths_shape("ctc_label_dense_to_sparse", "label_lengths", label_lengths, None if shape is None else shape[0])


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    func = "ctc_batch_cost"
    batch, steps, classes = _probabilities_shape(func, y_pred)
    shape = static_shape(y_true)
    if shape is not None and (len(shape) != 2 or not _batch_matches(shape[0], batch)):
        raise ValueError(f"{func}: argument `y_true` got shape {shape}; expected ({batch}, max_label_len)")
    inputs = _input_lengths(func, input_length, batch, steps)
    lengths = _lengths_shape(func, "label_length", label_length, batch)
    if lengths is None:
        return
    check_label_lengths(func, lengths, None if shape is None else shape[1], inputs)
    labels = known_value(y_true)
    if labels is not None and classes is not None:
        _check_label_values(func, labels.astype(np.int64), lengths, classes)


def ctc_decode(y_pred, input_length, greedy, beam_width, top_paths, merge_repeated):
    func = "ctc_decode"
    batch, steps, _ = _probabilities_shape(func, y_pred)
    _input_lengths(func, input_length, batch, steps)
    if not greedy and top_paths > beam_width:
        raise ValueError(f"{func}: argument `top_paths` got {top_paths}; expected at most beam_width ({beam_width})")
