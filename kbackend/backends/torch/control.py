"""Control flow, the RNN loop, gradient blocking and CTC on torch.

Eager torch needs no graph primitives: conditionals are Python ``if`` and ``torch.where``, the RNN is a
Python loop over the time steps, and autograd follows whatever ran.
"""

import sys

import torch
import torch.nn.functional as F

from ... import config
from ..._dispatch import OPS
from ...ops.control_rules import check_switch_ranks
from ...ops.ctc import SparseTensor
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


# torch: a scalar condition picks its branch with Python if (only that branch is called)
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


# torch: overrides the composite: a Python loop over unbound time slices, autograd following it
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


# torch: detach (a variable's value copied)
def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [_stopped(v) for v in variables]
    return _stopped(variables)


def print_tensor(x, message=""):
    print(f"{message}{to_numpy(_as_tensor(x))}", file=sys.stdout)
    return x


# ---------------------------------------------------------------------------------------------------
# CTC


def _probabilities(y_pred):
    y_pred = _as_tensor(y_pred)
    dtype = y_pred.dtype if y_pred.is_floating_point() else DTYPES[config.floatx()]
    return y_pred, dtype


def _lengths(value, device):
    """Per-sample lengths ``(batch,)`` or ``(batch, 1)`` as an int64 vector on ``device``."""
    return _as_tensor(value).reshape(-1).to(device, torch.int64)


# torch: the kept entries by torch.nonzero, on the labels' device
def ctc_label_dense_to_sparse(labels, label_lengths):
    dense = _as_tensor(labels)
    lengths = _lengths(label_lengths, dense.device)
    kept = torch.arange(dense.shape[1], device=dense.device)[None, :] < lengths[:, None]
    indices = torch.nonzero(kept)
    dense_shape = torch.tensor(tuple(dense.shape), dtype=torch.int64, device=dense.device)
    return SparseTensor((indices, dense[kept], dense_shape))


# torch: F.ctc_loss on log_softmax(log(y_pred + epsilon)), time-major
def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    y_pred, dtype = _probabilities(y_pred)
    classes, device = y_pred.shape[2], y_pred.device
    inputs, lengths = _lengths(input_length, device), _lengths(label_length, device)
    labels = _as_tensor(y_true).to(device, torch.int64)
    kept = torch.arange(labels.shape[1], device=device)[None, :] < lengths[:, None]
    work = torch.float32 if dtype in _HALVES or not y_pred.is_floating_point() else y_pred.dtype
    logits = torch.log(y_pred.to(work) + config.epsilon())
    log_probs = torch.log_softmax(logits, dim=-1).transpose(0, 1)  # (time, batch, classes)
    losses = F.ctc_loss(log_probs, torch.where(kept, labels, 0), inputs, lengths, blank=classes - 1,
                        reduction="none", zero_infinity=False)
    return losses[:, None].to(dtype)


# torch: greedy decoding on the device; beam search runs the reference on host values
def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    y_pred, dtype = _probabilities(y_pred)
    if not greedy:
        # Beam search walks a prefix tree whose shape depends on the data at every step; torch has no
        # kernel for it, so the reference's search runs on the CPU values and its results come back.
        decoded, scores = OPS["ctc_decode"].reference(
            to_numpy(y_pred), to_numpy(_as_tensor(input_length)), greedy, beam_width, top_paths, merge_repeated
        )
        return [from_numpy(d).to(y_pred.device) for d in decoded], from_numpy(scores).to(y_pred.device)
    batch, steps, classes = y_pred.shape
    lengths = _lengths(input_length, y_pred.device)
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
