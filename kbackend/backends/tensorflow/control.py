"""Control flow, higher-order functions, CTC and gradient/printing helpers on TensorFlow."""

import sys

import numpy as np

import tensorflow as tf

from ... import config
from ..._dispatch import OPS
from ...ops.control_rules import check_label_lengths, check_switch_ranks, known_value
from .math import common
from .variables import DTYPES, tensor

# ---------------------------------------------------------------------------------------------------
# gradients and printing


def stop_gradient(variables):
    if isinstance(variables, (list, tuple)):
        return [tf.stop_gradient(v) for v in variables]
    return tf.stop_gradient(variables)


# tensorflow: inside tf.function, Python's print when the graph runs (tf.print writes past sys.stdout)
def print_tensor(x, message=""):
    if tf.executing_eagerly():
        print(f"{message}{np.asarray(x)}", file=sys.stdout)
    else:  # inside tf.function: Python's print when the graph runs (tf.print writes past sys.stdout)
        tf.numpy_function(lambda value: print(f"{message}{value}", file=sys.stdout) or [], [x], [],
                          stateful=True)
    return x


# ---------------------------------------------------------------------------------------------------
# conditionals and loops


def _value(branch):
    return branch() if callable(branch) else branch


# tensorflow: a scalar condition in a graph becomes tf.cond; branches promoted to one dtype
def switch(condition, then_expression, else_expression):
    condition = tensor(condition)
    if condition.shape.rank == 0:
        if tf.executing_eagerly():
            return tensor(_value(then_expression if bool(condition) else else_expression))
        return tf.cond(tf.cast(condition, tf.bool), lambda: tensor(_value(then_expression)),
                       lambda: tensor(_value(else_expression)))
    then_value, else_value = common(tensor(_value(then_expression)), tensor(_value(else_expression)))
    rank = then_value.shape.rank
    check_switch_ranks(condition.shape.rank, rank)
    if condition.dtype is not tf.bool:
        condition = tf.cast(condition, tf.bool)
    if condition.shape.rank < rank:
        condition = tf.reshape(condition, tf.concat(
            [tf.shape(condition), tf.ones(rank - condition.shape.rank, tf.int32)], 0))
    return tf.where(condition, then_value, else_value)


_python_rnn = OPS["rnn"].reference


# tensorflow: one tf.while_loop in a graph; eager calls run the reference loop
def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, constants=None, unroll=False,
        input_length=None):
    if unroll or tf.executing_eagerly():
        return _python_rnn(step_function, inputs, initial_states, go_backwards, mask, constants, unroll,
                           input_length)
    return _while_rnn(step_function, tensor(inputs), initial_states, go_backwards, mask, constants)


def _while_rnn(step_function, inputs, initial_states, go_backwards, mask, constants):
    """The RNN loop as one ``tf.while_loop`` over time-major inputs (graph mode: no unrolled graph)."""
    shape = tuple(inputs.shape.as_list())
    time_major = tf.transpose(inputs, (1, 0, *range(2, len(shape))))
    if mask is not None:
        mask = tensor(mask)
        if mask.shape.rank == 3:
            mask = mask[:, :, 0]
        mask = tf.transpose(tf.cast(mask, tf.bool))
    if go_backwards:
        time_major = tf.reverse(time_major, [0])
        mask = None if mask is None else tf.reverse(mask, [0])
    constants = list(constants or ())
    states = [tensor(s) for s in initial_states or ()]
    steps = tf.shape(time_major)[0]

    first_output, _ = step_function(time_major[0], states + constants)
    outputs = tf.TensorArray(first_output.dtype, size=steps, element_shape=first_output.shape)

    def keep_where(keep, new, old):
        keep = tf.reshape(keep, tf.concat([tf.shape(keep), tf.ones(new.shape.rank - 1, tf.int32)], 0))
        return tf.where(keep, new, old)

    def body(t, previous, states, outputs):
        output, new_states = step_function(time_major[t], list(states) + constants)
        new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
        if mask is not None:
            output = keep_where(mask[t], output, previous)
            new_states = [keep_where(mask[t], new, old) for new, old in zip(new_states, states)]
        return t + 1, output, new_states, outputs.write(t, output)

    _, last, states, outputs = tf.while_loop(
        lambda t, *_: t < steps, body, (tf.constant(0), tf.zeros_like(first_output), states, outputs))
    stacked = outputs.stack()
    stacked = tf.transpose(stacked, (1, 0, *range(2, stacked.shape.rank)))
    return last, stacked, list(states)


# The loop bodies are K code: plain Python over tensors, never converted by AutoGraph (which cannot
# read the source of kbackend's generated op functions and would warn on each).
_plain = tf.autograph.experimental.do_not_convert


# tensorflow: tf.map_fn, its output cast to dtype
def map_fn(fn, elems, name=None, dtype=None):
    elems = tensor(elems)
    fn = _plain(fn)
    if dtype is None:
        return tf.map_fn(fn, elems)
    dtype = DTYPES[dtype]
    return tf.map_fn(lambda e: tf.cast(fn(e), dtype), elems, fn_output_signature=dtype)


def _fold(fold, fn, elems, initializer):
    elems = tensor(elems)
    if isinstance(initializer, (int, float)):
        initializer = tf.constant(initializer, elems.dtype)
    return fold(_plain(fn), elems, initializer)


# tensorflow: tf.foldl / tf.foldr (a Python number initializer takes the elements' dtype)
def foldl(fn, elems, initializer=None, name=None):
    return _fold(tf.foldl, fn, elems, initializer)


def foldr(fn, elems, initializer=None, name=None):
    return _fold(tf.foldr, fn, elems, initializer)


# ---------------------------------------------------------------------------------------------------
# CTC


def _lengths(value):
    """Per-sample lengths ``(batch,)`` or ``(batch, 1)`` as an int32 vector."""
    return tf.cast(tf.reshape(tensor(value), [-1]), tf.int32)


# tensorflow: a tf.SparseTensor of the kept entries
def ctc_label_dense_to_sparse(labels, label_lengths):
    labels = tensor(labels)
    kept = tf.sequence_mask(_lengths(label_lengths), tf.shape(labels)[1])
    indices = tf.where(kept)
    return tf.SparseTensor(indices, tf.gather_nd(labels, indices), tf.shape(labels, out_type=tf.int64))


def _logits(y_pred):
    """Time-major ``log(y_pred + epsilon())`` in a dtype the kernels take, and the dtype of the results."""
    y_pred = tensor(y_pred)
    dtype = y_pred.dtype if y_pred.dtype.is_floating else tf.as_dtype(config.floatx())
    work = tf.float64 if dtype == tf.float64 else tf.float32
    logits = tf.math.log(tf.cast(y_pred, work) + tf.constant(config.epsilon(), work))
    return tf.transpose(logits, (1, 0, 2)), dtype


# tensorflow: TensorFlow's CTC kernel, time-major
def ctc_batch_cost(y_true, y_pred, input_length, label_length):
    logits, dtype = _logits(y_pred)
    labels, lengths = tensor(y_true), _lengths(label_length)
    known = known_value(label_length)
    if known is not None:  # TensorFlow's kernel refuses an empty label (the reference scores its blank path)
        check_label_lengths("ctc_batch_cost", known.reshape(-1), labels.shape[1], shortest=1)
    sparse = ctc_label_dense_to_sparse(labels, lengths)
    sparse = tf.SparseTensor(sparse.indices, tf.cast(sparse.values, tf.int32), sparse.dense_shape)
    # tf.nn.ctc_loss may pick the float32-only CTCLossV2
    losses = tf.compat.v1.nn.ctc_loss(sparse, logits, _lengths(input_length), time_major=True)
    return tf.cast(tf.expand_dims(losses, 1), dtype)


def _dense_paths(decoded, batch, steps):
    shape = tf.stack([tf.cast(batch, tf.int64), tf.cast(steps, tf.int64)])
    return [tf.sparse.to_dense(tf.SparseTensor(st.indices, st.values, shape), default_value=-1) for st in decoded]


def _beam_search(logits, lengths, beam_width, top_paths, merge_repeated):
    decoded, log_prob = tf.compat.v1.nn.ctc_beam_search_decoder(
        logits, lengths, beam_width=beam_width, top_paths=top_paths, merge_repeated=merge_repeated)
    return _dense_paths(decoded, tf.shape(logits)[1], tf.shape(logits)[0]), log_prob


def _beam_search_each(logits, lengths, beam_width, top_paths, merge_repeated):
    """Beam search sample by sample, asking each for as many paths as its beam holds; the missing
    paths are empty (all -1) with log-probability -inf (TensorFlow's kernel refuses the whole batch)."""
    steps = logits.shape[0]
    paths, scores = [[] for _ in range(top_paths)], []
    for b in range(logits.shape[1]):
        for found in range(top_paths, 0, -1):
            try:
                dense, log_prob = _beam_search(logits[:, b:b + 1], lengths[b:b + 1], beam_width, found,
                                               merge_repeated)
                break
            except tf.errors.InvalidArgumentError:
                if found == 1:
                    raise
        missing = top_paths - found
        for i in range(top_paths):
            paths[i].append(dense[i] if i < found else tf.fill((1, steps), tf.constant(-1, tf.int64)))
        scores.append(tf.concat([log_prob, tf.fill((1, missing), tf.constant(-np.inf, log_prob.dtype))], 1))
    return [tf.concat(rows, 0) for rows in paths], tf.concat(scores, 0)


# tensorflow: TensorFlow's greedy and beam decoders; a beam too small for top_paths is searched sample by sample
def ctc_decode(y_pred, input_length, greedy=True, beam_width=100, top_paths=1, merge_repeated=False):
    if merge_repeated is None:  # read by its truth, as the reference does; TensorFlow's op would take None as True
        merge_repeated = False
    logits, dtype = _logits(y_pred)
    lengths = _lengths(input_length)
    if greedy:
        decoded, log_prob = tf.nn.ctc_greedy_decoder(logits, lengths)
        return _dense_paths(decoded, tf.shape(logits)[1], tf.shape(logits)[0]), tf.cast(log_prob, dtype)
    try:
        dense, log_prob = _beam_search(logits, lengths, beam_width, top_paths, merge_repeated)
    except tf.errors.InvalidArgumentError:
        if not tf.executing_eagerly():
            raise
        dense, log_prob = _beam_search_each(logits, lengths, beam_width, top_paths, merge_repeated)
    return dense, tf.cast(log_prob, dtype)
