"""Invalid arguments to the control-flow and CTC ops: the error type, and a message naming the function,
the argument, what it got and what it expected, on every backend."""


import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS, check_invalid_argument, invalid_argument_params


def tensor(*shape):
    return K.constant(np.zeros(shape, np.float32))


def ints(value):
    return K.constant(np.asarray(value, np.int32), dtype="int32")


def accumulate(x, states):
    return states[0] + x, [states[0] + x]


def probabilities(batch, steps, classes):
    return K.constant(np.full((batch, steps, classes), 1.0 / classes, np.float32))


#: (id, op, args builder, kwargs, error type, argument named in the message)
ERRORS = [
    ("switch-condition-rank", "switch", lambda: (ints(np.ones((2, 3, 4))), tensor(2, 3), tensor(2, 3)), {},
     ValueError, "condition"),
    ("rnn-inputs-rank2", "rnn", lambda: (accumulate, tensor(2, 3), [tensor(2, 3)]), {}, ValueError, "inputs"),
    ("rnn-mask-shape", "rnn", lambda: (accumulate, tensor(2, 4, 3), [tensor(2, 3)]),
     {"mask": ints(np.ones((2, 5)))}, ValueError, "mask"),
    ("rnn-no-steps", "rnn", lambda: (accumulate, tensor(2, 0, 3), [tensor(2, 3)]), {}, ValueError, "inputs"),
    ("map_fn-empty", "map_fn", lambda: (lambda x: x, tensor(0, 3)), {}, ValueError, "elems"),
    ("map_fn-dtype", "map_fn", lambda: (lambda x: x, tensor(2, 3)), {"dtype": "floaty"}, TypeError, "dtype"),
    ("foldl-empty", "foldl", lambda: (lambda a, x: a + x, tensor(0)), {}, ValueError, "elems"),
    ("foldr-empty", "foldr", lambda: (lambda a, x: a + x, tensor(0, 2)), {}, ValueError, "elems"),
    ("ctc_label_dense_to_sparse-rank1", "ctc_label_dense_to_sparse", lambda: (ints([1, 2]), ints([2])), {},
     ValueError, "labels"),
    ("ctc_label_dense_to_sparse-lengths", "ctc_label_dense_to_sparse", lambda: (ints([[1, 2]]), ints([2, 1])), {},
     ValueError, "label_lengths"),
    ("ctc_batch_cost-y_pred-rank2", "ctc_batch_cost",
     lambda: (ints([[0]]), tensor(1, 3), ints([[1]]), ints([[1]])), {}, ValueError, "y_pred"),
    ("ctc_batch_cost-y_true-batch", "ctc_batch_cost",
     lambda: (ints([[0], [1]]), probabilities(1, 3, 4), ints([[3]]), ints([[1]])), {}, ValueError, "y_true"),
    ("ctc_batch_cost-label-longer-than-input", "ctc_batch_cost",
     lambda: (ints([[0, 1, 2]]), probabilities(1, 4, 4), ints([[2]]), ints([[3]])), {}, ValueError,
     "label_length"),
    ("ctc_batch_cost-label-length-columns", "ctc_batch_cost",
     lambda: (ints([[0, 1]]), probabilities(1, 4, 4), ints([[4]]), ints([[3]])), {}, ValueError, "label_length"),
    ("ctc_batch_cost-input-longer-than-steps", "ctc_batch_cost",
     lambda: (ints([[0]]), probabilities(1, 4, 4), ints([[5]]), ints([[1]])), {}, ValueError, "input_length"),
    ("ctc_batch_cost-blank-label", "ctc_batch_cost",
     lambda: (ints([[3, 0]]), probabilities(1, 4, 4), ints([[4]]), ints([[2]])), {}, ValueError, "y_true"),
    ("ctc_batch_cost-negative-label", "ctc_batch_cost",
     lambda: (ints([[0, -1]]), probabilities(1, 4, 4), ints([[4]]), ints([[2]])), {}, ValueError, "y_true"),
    ("ctc_decode-input-longer-than-steps", "ctc_decode", lambda: (probabilities(2, 3, 4), ints([3, 4])), {},
     ValueError, "input_length"),
    ("ctc_decode-input-batch", "ctc_decode", lambda: (probabilities(2, 3, 4), ints([3])), {}, ValueError,
     "input_length"),
    ("ctc_decode-top_paths-above-beam_width", "ctc_decode", lambda: (probabilities(1, 3, 4), ints([3])),
     {"greedy": False, "beam_width": 2, "top_paths": 3}, ValueError, "top_paths"),
    ("ctc_decode-beam_width-zero", "ctc_decode", lambda: (probabilities(1, 3, 4), ints([3])),
     {"greedy": False, "beam_width": 0}, ValueError, "beam_width"),
    ("ctc_decode-top_paths-float", "ctc_decode", lambda: (probabilities(1, 3, 4), ints([3])),
     {"greedy": False, "top_paths": 1.5}, TypeError, "top_paths"),
]


@pytest.mark.parametrize("op,args,kwargs,kind,argument,backend", list(invalid_argument_params(ERRORS)))
def test_invalid_argument(op, args, kwargs, kind, argument, backend):
    check_invalid_argument(op, args, kwargs, kind, argument, backend)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("op", ["foldl", "foldr"])
def test_fold_of_nothing_is_the_initializer(op, backend):
    with K.backend_scope(backend):
        out = getattr(K, op)(lambda a, x: a + x, tensor(0, 2), initializer=K.constant([1.0, 2.0]))
        np.testing.assert_array_equal(K.eval(out), [1.0, 2.0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_beam_search_with_fewer_prefixes_than_paths(backend):
    """TensorFlow raises; the missing paths come back empty with log-probability -inf."""
    with K.backend_scope(backend):
        decoded, log_prob = K.ctc_decode(probabilities(1, 2, 3), ints([1]), greedy=False, beam_width=5,
                                         top_paths=4)
        assert len(decoded) == 4 and K.eval(decoded[3]).tolist() == [[-1, -1]]
        assert K.eval(log_prob)[0, 3] == -np.inf and np.isfinite(K.eval(log_prob)[0, :3]).all()
