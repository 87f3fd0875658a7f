"""Control flow, the RNN loop, gradient blocking and CTC on torch.

Eager torch needs no graph primitives: conditionals are Python ``if`` and ``torch.where``, the RNN is a
Python loop over the time steps, and autograd follows whatever ran.
"""

import sys

import numpy as np
import torch
import torch.nn.functional as F

from ... import config
from ..._dispatch import OPS
from ...ops.control_rules import check_switch_ranks
from ...ops.ctc import SparseTensor, checked_input_length, sample_lengths, check_labels
from .variables import DTYPES, Tensor, Variable, from_numpy, to_numpy, to_tensor

_HALVES = (torch.float16, torch.bfloat16)


def _value(branch):
    return branch() if callable(branch) else branch


def _as_tensor(x):
    return x if isinstance(x, Tensor) else to_tensor(x)


# ---------------------------------------------------------------------------------------------------
# conditionals


def _select(condition, then_value, else_value):
    """Elementwise select; a lower-rank ``condition`` applies along the leading axes."""
    check_switch_ranks(condition.dim(), then_value.dim())
    if condition.dtype is not torch.bool:
        condition = condition != 0
    condition = condition.reshape(tuple(condition.shape) + (1,) * (then_value.dim() - condition.dim()))
    return torch.where(condition, then_value, else_value)


def switch(condition, then_expression, else_expression):
    if isinstance(condition, (bool, int, float)):
        return _as_tensor(_value(then_expression if condition else else_expression))
    condition = _as_tensor(condition)
    if condition.dim() == 0:
        return _as_tensor(_value(then_expression if condition else else_expression))
    then_value = _as_tensor(_value(then_expression))
    else_value = _as_tensor(_value(else_expression))
    return _select(condition, then_value, else_value)


# ---------------------------------------------------------------------------------------------------
# the RNN loop


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    inputs = _as_tensor(inputs)
    shape = tuple(inputs.shape)
    steps = shape[1]
    if mask is not None:
        mask = _as_tensor(mask)
        mask = (mask if mask.dtype is torch.bool else mask != 0).reshape(shape[:2]).unbind(1)
    states = list(initial_states or ())
    constants = list(constants or ())
    slices = inputs.unbind(1)
    outputs = []
    output = None
    for t in (range(steps - 1, -1, -1) if go_backwards else range(steps)):
        step_output, step_states = step_function(slices[t], states + constants)
        step_states = list(step_states) if isinstance(step_states, (list, tuple)) else [step_states]
        if mask is not None:
            keep = mask[t]
            step_output = _as_tensor(step_output)
            previous = torch.zeros_like(step_output) if output is None else output
            step_output = _select(keep, step_output, previous)
            step_states = [_select(keep, _as_tensor(new), _as_tensor(old))
                           for new, old in zip(step_states, states)]
        output = step_output
        states = step_states
        outputs.append(output)
    return outputs[-1], torch.stack([_as_tensor(o) for o in outputs], 1), states


# ---------------------------------------------------------------------------------------------------
# gradients and printing


def _stopped(x):
    x = _as_tensor(x)
    return x.detach().clone() if x.__class__ is Variable else x.detach()


def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [_stopped(v) for v in variables]
    return _stopped(variables)


def print_tensor(x, message=""):
    print(f"{message}{to_numpy(_as_tensor(x))}", file=sys.stdout)
    return x


# ---------------------------------------------------------------------------------------------------
# CTC


def _host_ints(x):
    """A small integer tensor (labels, lengths) as a NumPy array, for the reference's validation."""
    return to_numpy(x) if isinstance(x, Tensor) else np.asarray(x)


def _probabilities(func, y_pred):
    y_pred = _as_tensor(y_pred)
    if y_pred.dim() != 3:
        raise ValueError(
            f"{func}: argument `y_pred` got shape {tuple(y_pred.shape)}; expected (batch, time, num_classes)"
        )
    dtype = y_pred.dtype
    if not y_pred.is_floating_point():
        dtype = DTYPES[config.floatx()]
    return y_pred, dtype


def ctc_label_dense_to_sparse(labels, label_lengths):
    dense = _as_tensor(labels)
    if dense.dim() != 2:
        raise ValueError(
            f"ctc_label_dense_to_sparse: argument `labels` got shape {tuple(dense.shape)}; "
            f"expected (batch, max_label_len)"
        )
    lengths = _as_tensor(label_lengths).to(dense.device)
    if lengths.dim() == 2 and lengths.shape[1] == 1:
        lengths = lengths[:, 0]
    if lengths.dim() != 1 or lengths.shape[0] != dense.shape[0]:
        raise ValueError(
            f"ctc_label_dense_to_sparse: argument `label_lengths` got shape {tuple(lengths.shape)}; "
            f"expected ({dense.shape[0]},) or ({dense.shape[0]}, 1)"
        )
    kept = torch.arange(dense.shape[1], device=dense.device)[None, :] < lengths[:, None]
    indices = torch.nonzero(kept)
    dense_shape = torch.tensor(tuple(dense.shape), dtype=torch.int64, device=dense.device)
    return SparseTensor((indices, dense[kept], dense_shape))


def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    func = "ctc_batch_cost"
    y_pred, dtype = _probabilities(func, y_pred)
    batch, steps, classes = y_pred.shape
    labels = _as_tensor(y_true)
    if labels.dim() != 2 or labels.shape[0] != batch:
        raise ValueError(
            f"{func}: argument `y_true` got shape {tuple(labels.shape)}; expected ({batch}, max_label_len)"
        )
    inputs = checked_input_length(func, _host_ints(input_length), batch, steps)
    lengths = sample_lengths(func, "label_length", _host_ints(label_length), batch)
    kept = check_labels(func, _host_ints(labels).astype(np.int64), lengths, inputs, classes, shortest=1)
    work = torch.float32 if dtype in _HALVES or not y_pred.is_floating_point() else y_pred.dtype
    logits = torch.log(y_pred.to(work) + config.epsilon())
    log_probs = torch.log_softmax(logits, dim=-1).transpose(0, 1)  # (time, batch, classes)
    device = y_pred.device
    targets = torch.where(torch.as_tensor(kept, device=device), labels.to(device, torch.int64), 0)
    losses = F.ctc_loss(log_probs, targets, torch.as_tensor(inputs, device=device),
                        torch.as_tensor(lengths, device=device), blank=classes - 1, reduction="none",
                        zero_infinity=False)
    return losses[:, None].to(dtype)


def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    func = "ctc_decode"
    y_pred, dtype = _probabilities(func, y_pred)
    if not greedy:
        # Beam search walks a prefix tree whose shape depends on the data at every step; torch has no
        # kernel for it, so the reference's search runs on the CPU values and its results come back.
        decoded, scores = OPS["ctc_decode"].reference(
            to_numpy(y_pred), _host_ints(input_length), greedy, beam_width, top_paths, merge_repeated
        )
        return [from_numpy(d).to(y_pred.device) for d in decoded], from_numpy(scores).to(y_pred.device)
    batch, steps, classes = y_pred.shape
    lengths = torch.as_tensor(checked_input_length(func, _host_ints(input_length), batch, steps),
                              device=y_pred.device)
    logits = torch.log(y_pred.to(torch.float64) + config.epsilon())
    best_logit, best = logits.max(dim=-1)
    valid = torch.arange(steps, device=y_pred.device)[None, :] < lengths[:, None]
    scores = -torch.where(valid, best_logit, 0.0).sum(dim=1, keepdim=True)
    keep = valid & (best != classes - 1)
    keep[:, 1:] &= best[:, 1:] != best[:, :-1]
    position = torch.where(keep, torch.cumsum(keep, dim=1) - 1, steps)
    decoded = torch.full((batch, steps + 1), -1, dtype=torch.int64, device=y_pred.device)
    decoded.scatter_(1, position, torch.where(keep, best, -1))
    return [decoded[:, :steps]], scores.to(dtype)
