"""Connectionist temporal classification: label conversion, loss and decoding.

Conventions shared by the three ops, as Keras 2 fixed them on top of TensorFlow's kernels:

* ``y_pred`` holds per-step class probabilities ``(batch, time, num_classes)``; the blank is the last
  class.  The engines see ``log(y_pred + epsilon())`` as logits (``epsilon()`` read at call time).
* the loss renormalises those logits with a softmax over the classes;
* greedy decoding scores a path by ``-sum(max logit)`` over the valid steps (no renormalisation);
  beam search renormalises each step with a log-softmax and reports the path's log-probability;
* decoded paths are dense int64 ``(batch, time)`` tensors padded with ``-1``.

The reference computes in float64 and casts the results back to the dtype of ``y_pred``.
"""

import heapq
import math

import numpy as np

from .. import config
from .._dispatch import ArgError, op
from . import control_rules as rules
from .variables import _array


class SparseTensor(tuple):
    """A sparse tensor on the NumPy backend: the tuple ``(indices, values, dense_shape)``.

    ``indices`` is int64 ``(n, rank)``, ``values`` holds the ``n`` stored entries, ``dense_shape`` is
    int64 ``(rank,)``.  Built like a tuple, from one iterable of the three parts, so code that rebuilds
    nested outputs with ``type(value)(items)`` keeps the type.

    >>> import numpy as np
    >>> from kbackend.ops.ctc import SparseTensor
    >>> st = SparseTensor((np.array([[0, 1]]), np.array([7]), np.array([2, 3])))
    >>> st.values, st.dense_shape
    (array([7]), array([2, 3]))
    """

    __slots__ = ()

    def __new__(cls, parts):
        indices, values, dense_shape = parts
        return super().__new__(cls, (indices, values, dense_shape))

    indices = property(lambda self: self[0])
    values = property(lambda self: self[1])
    dense_shape = property(lambda self: self[2])

    def __repr__(self):
        return f"SparseTensor(indices={self[0]!r}, values={self[1]!r}, dense_shape={self[2]!r})"


# ---------------------------------------------------------------------------------------------------
# argument helpers


def _positive_int(value):
    """An int ≥ 1 (beam width, number of paths)."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool):
        raise ArgError("an int >= 1", TypeError)
    if value < 1:
        raise ArgError("an int >= 1")
    return int(value)


def _lengths(value):
    """Per-sample lengths given as ``(batch,)`` or ``(batch, 1)`` (the op's check has seen to it) → an
    int64 vector."""
    return _array(value).reshape(-1).astype(np.int64)


def _logits(y_pred):
    """``log(y_pred + epsilon())`` in float64, and the dtype the results take."""
    probabilities = _array(y_pred)
    dtype = probabilities.dtype
    if dtype.kind != "f" and dtype.name != "bfloat16":
        dtype = np.dtype(config.floatx())
    return np.log(probabilities.astype(np.float64) + config.epsilon()), dtype


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# ---------------------------------------------------------------------------------------------------
# the ops


@op(check=rules.ctc_label_dense_to_sparse)
def ctc_label_dense_to_sparse(labels, label_lengths):
    """Convert dense CTC labels ``(batch, max_label_len)`` to a sparse tensor keeping, in row ``b``,
    the first ``label_lengths[b]`` entries.

    Returns the backend's sparse tensor; on NumPy a :class:`SparseTensor` ``(indices, values,
    dense_shape)`` with int64 ``indices`` (row-major order), ``values`` of the labels' dtype and int64
    ``dense_shape`` equal to the labels' shape.

    Args:
        labels: The label sequences.
        label_lengths: The length of each label sequence.

    >>> import numpy as np, kbackend as K
    >>> st = K.ctc_label_dense_to_sparse(np.array([[3, 1, 2], [4, 0, 0]]), np.array([3, 1]))
    >>> st.indices.tolist(), st.values.tolist(), st.dense_shape.tolist()
    ([[0, 0], [0, 1], [0, 2], [1, 0]], [3, 1, 2, 4], [2, 3])
    """
    dense = _array(labels)
    lengths = _lengths(label_lengths)
    kept = np.arange(dense.shape[1])[None, :] < lengths[:, None]
    indices = np.argwhere(kept).astype(np.int64)
    return SparseTensor((indices, dense[kept], np.array(dense.shape, dtype=np.int64)))


@op(check=rules.ctc_batch_cost)
def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    """CTC loss of each batch element: ``-log p(label | y_pred)`` summed over all alignments.

    Args:
        y_true: int labels ``(batch, max_label_len)``; entries past ``label_length`` are ignored, the
            others must lie in ``[0, num_classes - 1)`` (the last class is the blank).
        y_pred: probabilities ``(batch, time, num_classes)``, e.g. a softmax output; the loss uses
            ``log(y_pred + epsilon())`` as logits, renormalised by a softmax over the classes.
        input_length: valid time steps of each sample, ``(batch, 1)`` (or ``(batch,)``).
        label_length: label length of each sample, ``(batch, 1)`` (or ``(batch,)``), at most the
            sample's input length; an empty label scores the all-blank path (the tensorflow engine
            rejects 0, as TensorFlow's kernel does).

    Returns:
        The losses ``(batch, 1)`` in the dtype of ``y_pred``; ``inf`` where no alignment fits (repeated
        labels need a blank between them).

    >>> import numpy as np, kbackend as K
    >>> y_pred = np.full((1, 2, 3), 1 / 3, 'float32')
    >>> K.eval(K.ctc_batch_cost(np.array([[0]]), y_pred, np.array([[2]]), np.array([[1]]))).round(5)
    array([[1.09861]], dtype=float32)
    """
    logits, dtype, labels, inputs, lengths = _ctc_arguments(y_true, y_pred, input_length, label_length)
    log_probs = _log_softmax(logits)
    extended, can_skip = _extended_labels(labels, logits.shape[2] - 1)
    alphas = _forward(log_probs, extended, can_skip, inputs)
    final = alphas[-1] if alphas else _initial_alpha(extended.shape)
    return -_end_probability(final, lengths)[:, None].astype(dtype)


def ctc_batch_cost_vjp(g, out, y_true, y_pred, input_length, label_length):
    """The gradient rule of :func:`ctc_batch_cost` for reverse-mode autodiff on NumPy: the cotangent
    ``g`` ``(batch, 1)`` of the losses → ``{'y_pred': cotangent of y_pred}`` (zero where no alignment
    fits), by the forward-backward algorithm."""
    logits, dtype, labels, inputs, lengths = _ctc_arguments(y_true, y_pred, input_length, label_length)
    batch, steps, classes = logits.shape
    log_probs = _log_softmax(logits)
    extended, can_skip = _extended_labels(labels, classes - 1)
    alphas = _forward(log_probs, extended, can_skip, inputs)
    betas = _backward(log_probs, extended, can_skip, inputs, lengths)
    final = alphas[-1] if alphas else _initial_alpha(extended.shape)
    log_likelihood = _end_probability(final, lengths)
    feasible = np.isfinite(log_likelihood)
    rows = np.arange(batch)[:, None]
    occupancy = np.zeros((batch, steps, classes))  # posterior of emitting class k at step t
    with np.errstate(invalid="ignore"):
        for t, (alpha, beta) in enumerate(zip(alphas, betas)):
            through = alpha + beta - log_probs[rows, t, extended] - log_likelihood[:, None]
            through = np.where(feasible[:, None], through, -np.inf)
            np.add.at(occupancy, (np.broadcast_to(rows, extended.shape), t, extended), np.exp(through))
    valid = (np.arange(steps)[None, :] < inputs[:, None]) & feasible[:, None]
    d_logits = np.where(valid[..., None], np.exp(log_probs) - occupancy, 0.0)
    d_probabilities = d_logits / (_array(y_pred).astype(np.float64) + config.epsilon())
    cotangent = np.asarray(g, dtype=np.float64).reshape(batch, 1, 1)
    return {"y_pred": (cotangent * d_probabilities).astype(dtype)}


def _ctc_arguments(y_true, y_pred, input_length, label_length):
    """CTC inputs (checked by the op): logits, result dtype, labels (blank past each length), input and
    label lengths."""
    logits, dtype = _logits(y_pred)
    labels, lengths = _array(y_true).astype(np.int64), _lengths(label_length)
    kept = np.arange(labels.shape[1])[None, :] < lengths[:, None]
    return logits, dtype, np.where(kept, labels, logits.shape[2] - 1), _lengths(input_length), lengths


def _extended_labels(labels, blank):
    """``blank, l1, blank, l2, …, blank`` per sample, and where ``l_s`` may follow ``l_{s-2}`` directly."""
    batch, states = labels.shape[0], 2 * labels.shape[1] + 1
    extended = np.full((batch, states), blank, dtype=np.int64)
    extended[:, 1::2] = labels
    can_skip = np.zeros((batch, states), dtype=bool)
    can_skip[:, 3::2] = extended[:, 3::2] != extended[:, 1:-2:2]
    return extended, can_skip


def _initial_alpha(shape):
    alpha = np.full(shape, -np.inf)  # before the first step: nothing emitted, probability 1
    alpha[:, 0] = 0.0
    return alpha


def _shifted(values, by):
    """``values[:, s - by]`` (``by`` > 0) or ``values[:, s + |by|]``, ``-inf`` where out of range."""
    pad = np.full((values.shape[0], abs(by)), -np.inf)
    if by > 0:
        return np.concatenate([pad, values[:, :-by]], axis=1)
    return np.concatenate([values[:, -by:], pad], axis=1)


def _forward(log_probs, extended, can_skip, input_lengths):
    """Log forward variables after each step (emission included), frozen past each input length."""
    rows = np.arange(log_probs.shape[0])[:, None]
    alpha, alphas = _initial_alpha(extended.shape), []
    for t in range(int(input_lengths.max(initial=0))):
        reached = np.logaddexp(np.logaddexp(alpha, _shifted(alpha, 1)),
                               np.where(can_skip, _shifted(alpha, 2), -np.inf))
        alpha = np.where((t < input_lengths)[:, None], reached + log_probs[rows, t, extended], alpha)
        alphas.append(alpha)
    return alphas


def _backward(log_probs, extended, can_skip, input_lengths, label_lengths):
    """Log backward variables at each step (emission included); ``-inf`` past each input length."""
    batch, states = extended.shape
    rows = np.arange(batch)[:, None]
    position = np.arange(states)[None, :]
    ends = (position == 2 * label_lengths[:, None]) | (position == 2 * label_lengths[:, None] - 1)
    skip_ahead = _shifted(np.where(can_skip, 0.0, -np.inf), -2) == 0.0
    beta, betas = np.full((batch, states), -np.inf), []
    for t in reversed(range(int(input_lengths.max(initial=0)))):
        emitted = log_probs[rows, t, extended]
        reached = np.logaddexp(np.logaddexp(beta, _shifted(beta, -1)),
                               np.where(skip_ahead, _shifted(beta, -2), -np.inf))
        last = (t == input_lengths - 1)[:, None]
        beta = np.where(last, np.where(ends, emitted, -np.inf),
                        np.where((t < input_lengths - 1)[:, None], reached + emitted, -np.inf))
        betas.append(beta)
    return betas[::-1]


def _end_probability(alpha, label_lengths):
    """Log-probability of the whole label: paths ending on its last label or on the blank after it."""
    batch_index = np.arange(alpha.shape[0])
    ends_in_blank = alpha[batch_index, 2 * label_lengths]
    ends_in_label = np.where(label_lengths > 0, alpha[batch_index, 2 * label_lengths - 1], -np.inf)
    return np.logaddexp(ends_in_blank, ends_in_label)


@op(check=rules.ctc_decode, beam_width=_positive_int, top_paths=_positive_int)
def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    """Decode the output of a softmax with best-path (greedy) or beam search.

    Greedy: the most likely class at each valid step, repeats merged, blanks dropped; its score is
    ``-sum(max log(y_pred + epsilon()))`` over the valid steps, shape ``(batch, 1)``.
    Beam search (``greedy=False``, TensorFlow's algorithm): keeps ``beam_width`` prefixes, returns the
    ``top_paths`` best with their log-probabilities (steps renormalised by a log-softmax), shape
    ``(batch, top_paths)``; when fewer prefixes exist (very short inputs) the missing paths are empty with
    log-probability ``-inf`` (TensorFlow raises).  ``merge_repeated`` (beam search only) also merges equal
    neighbours in the returned label sequences.

    Args:
        y_pred: probabilities ``(batch, time, num_classes)``; the last class is the blank.
        input_length: valid time steps of each sample, ``(batch,)``.
        greedy: Decode greedily (best path) when True, with a beam search otherwise.
        beam_width: The beam width of the beam search.
        top_paths: How many decoded paths to return.
        merge_repeated: Merge repeated labels in the output when True.

    Returns:
        ``(decoded, log_prob)``: ``decoded`` is a list of ``top_paths`` (1 if greedy) int64
        ``(batch, time)`` tensors padded with ``-1``; ``log_prob`` has the dtype of ``y_pred``.

    >>> import numpy as np, kbackend as K
    >>> y_pred = np.array([[[.1, .8, .1], [.1, .8, .1], [.1, .1, .8], [.7, .2, .1]]], 'float32')
    >>> decoded, log_prob = K.ctc_decode(y_pred, np.array([4]))
    >>> K.eval(decoded[0])
    array([[ 1,  0, -1, -1]])
    """
    logits, dtype = _logits(y_pred)
    batch, steps, classes = logits.shape
    lengths = _lengths(input_length)
    if greedy:
        paths, scores = _greedy(logits, lengths)
        paths = [paths]
    else:
        log_probs = _log_softmax(logits)
        found = [_beam_search(log_probs[b, : lengths[b]], beam_width, top_paths, merge_repeated)
                 for b in range(batch)]
        paths = [[found[b][0][i] for b in range(batch)] for i in range(top_paths)]
        scores = np.array([found[b][1] for b in range(batch)], dtype=np.float64).reshape(batch, top_paths)
    decoded = [_dense(rows, batch, steps) for rows in paths]
    return decoded, scores.astype(dtype)


def _dense(sequences, batch, steps):
    out = np.full((batch, steps), -1, dtype=np.int64)
    for b, sequence in enumerate(sequences):
        out[b, : len(sequence)] = sequence
    return out


def _greedy(logits, lengths):
    batch, steps, classes = logits.shape
    best = logits.argmax(axis=-1)
    valid = np.arange(steps)[None, :] < lengths[:, None]
    scores = -np.where(valid, logits.max(axis=-1), 0.0).sum(axis=1, keepdims=True)
    sequences = []
    for b in range(batch):
        path = best[b, : lengths[b]]
        keep = path != classes - 1
        keep[1:] &= path[1:] != path[:-1]
        sequences.append(path[keep])
    return sequences, scores


# ---------------------------------------------------------------------------------------------------
# beam search (TensorFlow's CTCBeamSearchDecoder with its default scorer, step by step)


def _logaddexp(a, b):
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


class _Prefix:
    """One node of the prefix tree: a label sequence and its blank/label/total log-probabilities now
    (``new_*``) and one step before (``old_*``)."""

    __slots__ = ("parent", "label", "children", "new_blank", "new_label", "new_total", "old_blank",
                 "old_label", "old_total")

    def __init__(self, parent, label):
        self.parent = parent
        self.label = label
        self.children = {}
        self.reset_new()
        self.reset_old()

    def reset_new(self):
        self.new_blank = self.new_label = self.new_total = -math.inf

    def reset_old(self):
        self.old_blank = self.old_label = self.old_total = -math.inf

    @property
    def active(self):
        return self.new_total != -math.inf

    def child(self, label):
        node = self.children.get(label)
        if node is None:
            node = self.children[label] = _Prefix(self, label)
        return node

    def labels(self, merge_repeated):
        sequence, node, previous = [], self, -1
        while node.parent is not None:
            if not merge_repeated or node.label != previous:
                sequence.append(node.label)
            previous = node.label
            node = node.parent
        return sequence[::-1]


class _Beam:
    """The ``beam_width`` most probable prefixes (TensorFlow's TopN of leaves), a min-heap on
    ``new_total`` so the bottom entry is at hand."""

    def __init__(self, width):
        self.width = width
        self.heap = []
        self.pushes = 0

    def __len__(self):
        return len(self.heap)

    def full(self):
        return len(self.heap) == self.width

    def bottom_total(self):
        return self.heap[0][0]

    def admits(self, total):
        return total > -math.inf and (len(self.heap) < self.width or total > self.heap[0][0])

    def push(self, node):
        """Add ``node``; a full beam drops its bottom entry, which leaves the search."""
        if len(self.heap) == self.width:
            heapq.heappop(self.heap)[2].reset_new()
        self.pushes += 1
        heapq.heappush(self.heap, (node.new_total, self.pushes, node))

    def extract(self):
        """The leaves, most probable first; the beam is left empty."""
        leaves = [entry[2] for entry in sorted(self.heap, key=lambda entry: (-entry[0], entry[1]))]
        self.heap = []
        return leaves


def _beam_search(log_probs, beam_width, top_paths, merge_repeated):
    """Best ``top_paths`` label sequences of one sample and their log-probabilities."""
    blank = log_probs.shape[1] - 1
    root = _Prefix(None, -1)
    root.new_total = root.new_blank = 0.0
    beam = _Beam(beam_width)
    beam.push(root)
    for step_array in log_probs:
        step = step_array.tolist()
        branches = beam.extract()
        for node in branches:
            node.old_blank, node.old_label, node.old_total = node.new_blank, node.new_label, node.new_total
        for node in branches:
            if node.parent is not None:
                parent = node.parent
                if parent.active:
                    previous = parent.old_blank if node.label == parent.label else parent.old_total
                    node.new_label = _logaddexp(node.new_label, previous)
                node.new_label += step[node.label]
            node.new_blank = node.old_total + step[blank]
            node.new_total = _logaddexp(node.new_blank, node.new_label)
            beam.push(node)
        for node in branches:
            if not beam.admits(node.old_total):
                continue
            extended = step_array[:blank] + node.old_total
            if 0 <= node.label < blank:
                extended[node.label] = step[node.label] + node.old_blank
            labels = range(blank)
            if beam.full():
                # The bottom only rises while the beam is full, so a label below it now is never
                # admitted; visiting it only matters when its child already exists.
                hopeful = np.flatnonzero(extended > beam.bottom_total()).tolist()
                labels = sorted(set(hopeful).union(node.children))
            for label in labels:
                child = node.child(label)
                if child.active:
                    continue
                child.new_blank = -math.inf
                child.new_label = child.new_total = float(extended[label])
                if beam.admits(child.new_total):
                    beam.push(child)
                else:
                    child.reset_old()
                    child.reset_new()
    best = beam.extract()[:top_paths]
    paths = [node.labels(merge_repeated) for node in best]
    scores = [node.new_total for node in best]
    missing = top_paths - len(best)  # TensorFlow raises here; an absent path is empty with probability 0
    return paths + [[]] * missing, scores + [-math.inf] * missing
