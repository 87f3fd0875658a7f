"""Cases for the RNN loop, conditionals, learning-phase selection, higher-order functions and CTC.

Callables that only use Python operators run on any engine's tensors, tf_keras included, so their cases
keep the oracle; callables calling ``K.*`` cannot run on tf_keras (``test_control_oracle.py`` compares
those ops with step functions built for each side).
"""

import numpy as np

import kbackend as K

from . import ALL_FLOATS, F32_64, Arr, Case, Ints, Rand

CALLS_K = "the callable calls kbackend ops, which tf_keras cannot run"
RANK1_SWITCH = ("tf_keras's tf.where (v2) aligns a rank-1 condition with the last axis; Keras 2 selects "
                "along the first axis (leading dims of the branches), as its NumPy reference did")
SPARSE = "tf_keras returns a tf.SparseTensor (compared in test_control_oracle.py)"
TRACED = "with a symbolic condition both branches are traced (as tf.cond does in a graph)"
NO_GRADIENT = "decoding is not differentiable (TensorFlow registers no gradient for its decoders)"
MERGE = "tf_keras.ctc_decode has no merge_repeated (compared with TensorFlow's decoder in test_control_oracle.py)"


# ---------------------------------------------------------------------------------------------------
# step functions and folds built from Python operators only


def accumulate(x, states):
    """A running sum: outputs are the cumulative sums over time."""
    total = states[0] + x
    return total, [total]


def accumulate_scaled(x, states):
    """A running sum of ``x * scale``, ``scale`` passed as a constant."""
    total = states[0] + x * states[1]
    return total, [total]


def two_states(x, states):
    """A running sum and a step counter of another shape."""
    total, count = states
    return total + x, [total + x, count + 1.0]


def doubled(x, states):
    return x * 2.0, []


def _accumulated(x, initial, mask=None, backwards=False):
    """Keras 2 facts of ``accumulate``: carried forward at masked steps, reversed when going backwards."""
    x = x.astype(np.float64)
    steps = range(x.shape[1] - 1, -1, -1) if backwards else range(x.shape[1])
    total, output, outputs = initial.astype(np.float64), np.zeros_like(initial, np.float64), []
    for t in steps:
        keep = True if mask is None else mask[:, t].astype(bool)[:, None]
        total = np.where(keep, total + x[:, t], total)
        output = np.where(keep, total, output)
        outputs.append(output)
    return outputs[-1], np.stack(outputs, axis=1), [total]


def _rnn_expected(dtype_of, **options):
    def expected(step, x, states, *args, **kwargs):
        last, outputs, (total,) = _accumulated(x, states[0], kwargs.get("mask"), kwargs.get("go_backwards"))
        return last.astype(dtype_of(x)), outputs.astype(dtype_of(x)), [total.astype(dtype_of(x))]

    return expected


_SAME = _rnn_expected(lambda x: x.dtype)


def fails_if_called():
    raise AssertionError("switch evaluated the branch it did not select")


RNN = [
    Case("rnn", (accumulate, Rand((2, 4, 3)), [Rand((2, 3))]), dtypes=ALL_FLOATS, expected=_SAME),
    Case("rnn", (accumulate, Rand((2, 4, 3)), [Rand((2, 3))]), {"go_backwards": True}, dtypes=F32_64,
         name="backwards", expected=_SAME),
    Case("rnn", (accumulate, Rand((2, 4, 3)), [Rand((2, 3))]), {"unroll": True, "input_length": 4},
         dtypes=F32_64, name="unroll", expected=_SAME),
    Case("rnn", (accumulate, Rand((3, 5, 2)), [Rand((3, 2))]),
         {"mask": Arr([[1, 1, 0, 1, 0], [0, 1, 1, 0, 0], [1, 1, 1, 1, 1]], floating=False)},
         dtypes=ALL_FLOATS, name="mask", expected=_SAME),
    Case("rnn", (accumulate, Rand((3, 5, 2)), [Rand((3, 2))]),
         {"mask": Arr([[True, False, True, False, False], [False, False, True, True, False],
                       [True, True, False, True, True]], floating=False), "go_backwards": True, "unroll": True},
         dtypes=F32_64, name="mask_backwards_unroll", expected=_SAME),
    Case("rnn", (accumulate_scaled, Rand((2, 3, 4)), [Rand((2, 4))]), {"constants": [Rand((2, 4))]},
         dtypes=F32_64, name="constants",
         expected=lambda step, x, states, constants: _rnn_expected(lambda v: v.dtype)(
             step, x * constants[0][:, None], states)),
    Case("rnn", (two_states, Rand((2, 3, 4)), [Rand((2, 4)), Arr([[0.0], [5.0]])]),
         {"mask": Arr([[1, 0, 1], [0, 1, 1]], floating=False)}, dtypes=F32_64, name="two_states",
         expected=lambda step, x, states, mask: (
             _accumulated(x, states[0], mask)[0].astype(x.dtype),
             _accumulated(x, states[0], mask)[1].astype(x.dtype),
             [_accumulated(x, states[0], mask)[2][0].astype(x.dtype),
              states[1] + mask.sum(axis=1, keepdims=True).astype(x.dtype)])),
    Case("rnn", (doubled, Rand((2, 3, 2, 2)), []), dtypes=F32_64, name="no_states_rank4",
         expected=lambda step, x, states: (x[:, -1] * 2, x * 2, [])),
]

SWITCH = [
    Case("switch", (Arr(True, floating=False), Rand((2, 3)), Rand((2, 3))), dtypes=ALL_FLOATS, name="scalar_true",
         expected=lambda c, a, b: a),
    Case("switch", (Arr(0, floating=False, dtype="int32"), Rand((2, 3)), Rand((2, 3))), dtypes=ALL_FLOATS,
         name="scalar_false", expected=lambda c, a, b: b),
    Case("switch", (Arr(True, floating=False), lambda: K.ones((2,)), fails_if_called), name="lazy_then",
         oracle=CALLS_K, symbolic=TRACED, expected=np.ones(2, np.float32)),
    Case("switch", (Arr(False, floating=False), fails_if_called, lambda: K.zeros((2,))), name="lazy_else",
         oracle=CALLS_K, symbolic=TRACED, expected=np.zeros(2, np.float32)),
    Case("switch", (Ints((2, 3), 0, 2), Rand((2, 3)), Rand((2, 3))), dtypes=ALL_FLOATS, name="elementwise",
         expected=lambda c, a, b: np.where(c != 0, a, b)),
    Case("switch", (Arr([[True, False, True], [False, True, True]], floating=False), Rand((2, 3, 4)),
                    Rand((2, 3, 4))), dtypes=ALL_FLOATS, name="rank2_of_3",
         expected=lambda c, a, b: np.where(c[..., None], a, b)),
    Case("switch", (Arr([True, False, True], floating=False), Rand((3, 2)), Rand((3, 2))), dtypes=ALL_FLOATS,
         name="rank1_rows", oracle=RANK1_SWITCH, expected=lambda c, a, b: np.where(c[:, None], a, b)),
    Case("switch", (Ints((4,), 0, 2), Ints((4,), -5, 5), Ints((4,), -5, 5)), name="int",
         expected=lambda c, a, b: np.where(c != 0, a, b)),
]

PHASE = [
    Case("in_train_phase", (Rand((2, 3)), Rand((2, 3))), {"training": 1}, dtypes=ALL_FLOATS, name="train",
         expected=lambda x, alt, training: x),
    Case("in_train_phase", (Rand((2, 3)), Rand((2, 3))), {"training": False}, name="test",
         expected=lambda x, alt, training: alt),
    Case("in_train_phase", (Rand((2, 3)), Rand((2, 3))), name="learning_phase_default",
         expected=lambda x, alt: alt),
    Case("in_train_phase", (Rand((2, 3)), Rand((2, 3))), {"training": Arr(True, floating=False)},
         dtypes=ALL_FLOATS, name="tensor", expected=lambda x, alt, training: x),
    Case("in_train_phase", (lambda: K.ones((2,)), fails_if_called), {"training": Arr(1, floating=False)},
         name="tensor_lazy", oracle=CALLS_K, symbolic=TRACED, expected=np.ones(2, np.float32)),
    Case("in_train_phase", (lambda: K.ones((2,)), fails_if_called), {"training": True}, name="python_lazy",
         oracle=CALLS_K, expected=np.ones(2, np.float32)),
    Case("in_test_phase", (Rand((2, 3)), Rand((2, 3))), {"training": 0}, dtypes=ALL_FLOATS, name="test",
         expected=lambda x, alt, training: x),
    Case("in_test_phase", (Rand((2, 3)), Rand((2, 3))), {"training": True}, name="train",
         expected=lambda x, alt, training: alt),
    Case("in_test_phase", (Rand((2, 3)), Rand((2, 3))), {"training": Arr(False, floating=False)},
         name="tensor", expected=lambda x, alt, training: x),
]

HIGHER_ORDER = [
    Case("map_fn", (lambda row: row + row, Rand((4, 3))), dtypes=ALL_FLOATS, expected=lambda fn, x: x + x),
    Case("map_fn", (lambda row: K.sum(row), Rand((5, 3))), dtypes=F32_64, name="k_sum", oracle=CALLS_K,
         expected=lambda fn, x: x.sum(axis=1)),
    Case("map_fn", (lambda row: row * 3, Ints((3, 2), -4, 4)), {"dtype": "int32"}, name="int_dtype",
         expected=lambda fn, x, dtype: x * 3),
    Case("foldl", (lambda acc, x: acc + x, Rand((5, 3))), dtypes=ALL_FLOATS, expected=lambda fn, x: x.sum(axis=0)),
    Case("foldl", (lambda acc, x: acc * 10.0 + x, Arr([1.0, 2.0, 3.0])), {"initializer": Arr(4.0)},
         dtypes=F32_64, name="initializer", expected=lambda fn, x, initializer: np.array(4123.0, x.dtype)),
    Case("foldr", (lambda acc, x: acc + x, Rand((5, 3))), dtypes=ALL_FLOATS, expected=lambda fn, x: x.sum(axis=0)),
    Case("foldr", (lambda acc, x: acc * 10.0 + x, Arr([1.0, 2.0, 3.0])), {"initializer": Arr(4.0)},
         dtypes=F32_64, name="initializer", expected=lambda fn, x, initializer: np.array(4321.0, x.dtype)),
    # Keras 2's right-to-left test: left to right, 1e-20 * 1e-20 underflows float32's normal range.
    Case("foldr", (lambda acc, x: acc * x, Arr([1e-20, 1e-20, 10.0, 10.0, 10.0], dtype="float32")),
         name="right_to_left", expected=np.float32(1e-37), rtol=1e-5,
         check=lambda out, fn, x: np.testing.assert_array_less(9e-38, out)),
]

# ---------------------------------------------------------------------------------------------------
# CTC (values from Keras 2's backend tests, which adapted TensorFlow's)

CTC_LABELS = [[0, 1, 2, 1, 0], [0, 1, 1, 0, -1]]
CTC_PROBABILITIES = [
    [[0.633766, 0.221185, 0.0917319, 0.0129757, 0.0142857, 0.0260553],
     [0.111121, 0.588392, 0.278779, 0.0055756, 0.00569609, 0.010436],
     [0.0357786, 0.633813, 0.321418, 0.00249248, 0.00272882, 0.0037688],
     [0.0663296, 0.643849, 0.280111, 0.00283995, 0.0035545, 0.00331533],
     [0.458235, 0.396634, 0.123377, 0.00648837, 0.00903441, 0.00623107]],
    [[0.30176, 0.28562, 0.0831517, 0.0862751, 0.0816851, 0.161508],
     [0.24082, 0.397533, 0.0557226, 0.0546814, 0.0557528, 0.19549],
     [0.230246, 0.450868, 0.0389607, 0.038309, 0.0391602, 0.202456],
     [0.280884, 0.429522, 0.0326593, 0.0339046, 0.0326856, 0.190345],
     [0.423286, 0.315517, 0.0338439, 0.0393744, 0.0339315, 0.154046]],
]
GREEDY_PROBABILITIES = np.stack([
    [[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.4, 0.6], [0.0, 0.0, 0.4, 0.6], [0.0, 0.9, 0.1, 0.0],
     [0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
    [[0.1, 0.9, 0.0, 0.0], [0.0, 0.9, 0.1, 0.0], [0.0, 0.0, 0.1, 0.9], [0.0, 0.9, 0.1, 0.1],
     [0.9, 0.1, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
])
BEAM_PROBABILITIES = [[
    [0.30999, 0.309938, 0.0679938, 0.0673362, 0.0708352, 0.173908],
    [0.215136, 0.439699, 0.0370931, 0.0393967, 0.0381581, 0.230517],
    [0.199959, 0.489485, 0.0233221, 0.0251417, 0.0233289, 0.238763],
    [0.279611, 0.452966, 0.0204795, 0.0209126, 0.0194803, 0.20655],
    [0.51286, 0.288951, 0.0243026, 0.0220788, 0.0219297, 0.129878],
    [0.0] * 6,
    [0.0] * 6,
]]


def _greedy_expected(y_pred, input_length):
    scores = [[-np.log([1.0, 0.6, 0.6, 0.9]).sum()], [-np.log([0.9] * 5).sum()]]
    decoded = np.array([[0, 1, -1, -1, -1, -1], [1, 1, 0, -1, -1, -1]], np.int64)
    return [decoded], np.array(scores).astype(y_pred.dtype)


def _beam_expected(y_pred, input_length, **kwargs):
    decoded = [np.array([[1, 0, -1, -1, -1, -1, -1]]), np.array([[0, 1, 0, -1, -1, -1, -1]])]
    # TensorFlow 2's decoder renormalises each step; Keras 2.3.1's test, run on TF 1, expected these
    # log-probabilities shifted by -sum(max log y_pred) (0.584855 and 0.389139).
    return decoded, np.array([[-3.5821197, -3.777835]], y_pred.dtype)


def _decode(args, kwargs=None, dtypes=F32_64, **fields):
    return Case("ctc_decode", args, kwargs or {}, dtypes=dtypes, gradient=NO_GRADIENT, **fields)


REPEATS = [[[0.2, 0.7, 0.1], [0.1, 0.1, 0.8], [0.2, 0.7, 0.1]]]  # label 1, blank, label 1


def _beam_scores(y_pred):
    """Exact log-probabilities of the label sequences [1, 1] and [1] for REPEATS."""
    p = y_pred[0].astype(np.float64) + 1e-7
    p = p / p.sum(axis=1, keepdims=True)
    blank, one = p[:, 2], p[:, 1]
    twice = one[0] * blank[1] * one[2]
    once = (one[0] * one[1] * one[2] + one[0] * one[1] * blank[2] + one[0] * blank[1] * blank[2]
            + blank[0] * one[1] * one[2] + blank[0] * one[1] * blank[2] + blank[0] * blank[1] * one[2])
    return np.log([[twice, once]]).astype(y_pred.dtype)


def _blank_path_loss(y_pred):
    """-log p(all blanks) of one sample: each step's blank probability renormalised over the classes."""
    p = y_pred.astype(np.float64) + 1e-7
    return -np.log(p[:, -1] / p.sum(-1)).sum()


CTC = [
    Case("ctc_label_dense_to_sparse", (Arr(CTC_LABELS, floating=False, dtype="int32"),
                                       Arr([5, 4], floating=False, dtype="int32")), oracle=SPARSE,
         expected=lambda labels, lengths: (np.argwhere(np.arange(5) < np.array([[5], [4]])),
                                           np.array([0, 1, 2, 1, 0, 0, 1, 1, 0], np.int32),
                                           np.array([2, 5], np.int64))),
    Case("ctc_batch_cost", (Arr(CTC_LABELS, floating=False, dtype="int32"), Arr(CTC_PROBABILITIES),
                            Arr([[5], [5]], floating=False, dtype="int32"),
                            Arr([[5], [4]], floating=False, dtype="int32")),
         dtypes=ALL_FLOATS, atol=1e-5,
         expected=lambda t, y, i, l: np.array([[3.34211], [5.42262]], y.dtype)),
    Case("ctc_batch_cost", (Arr([[0, 1, 2, 1, 0]], floating=False), Arr(CTC_PROBABILITIES[:1]),
                            Arr([[5]], floating=False), Arr([[5]], floating=False)),
         dtypes=F32_64, name="batch1", atol=1e-5,
         expected=lambda t, y, i, l: np.array([[3.34211]], y.dtype)),
    Case("ctc_batch_cost", (Ints((3, 4), 0, 4), Rand((3, 8, 5), 0.05, 1.0), Arr([[8], [6], [7]], floating=False),
                            Arr([[4], [2], [3]], floating=False)), dtypes=ALL_FLOATS, name="unnormalised", rtol=1e-7),
    Case("ctc_batch_cost", (Arr([[1, 1, 1]], floating=False), Arr(CTC_PROBABILITIES[:1]),
                            Arr([[4]], floating=False), Arr([[3]], floating=False)), name="no_alignment",
         expected=np.array([[np.inf]], np.float32)),
    Case("ctc_batch_cost", (Arr(CTC_LABELS, floating=False, dtype="int32"), Arr(CTC_PROBABILITIES),
                            Arr([[5], [5]], floating=False, dtype="int32"),
                            Arr([[5], [0]], floating=False, dtype="int32")),
         dtypes=F32_64, name="empty_label", atol=1e-5, oracle="TensorFlow's kernel refuses an empty label",
         expected=lambda t, y, i, l: np.array([[3.34211], [_blank_path_loss(y[1])]], y.dtype)),
    _decode((Arr(GREEDY_PROBABILITIES), Arr([4, 5], floating=False, dtype="int32")), dtypes=ALL_FLOATS,
            name="greedy", atol=1e-5, expected=_greedy_expected),
    _decode((Arr(BEAM_PROBABILITIES), Arr([5], floating=False, dtype="int32")),
            {"greedy": False, "beam_width": 2, "top_paths": 2}, name="beam", atol=1e-5, expected=_beam_expected),
    _decode((Rand((3, 6, 5), 0.0, 1.0), Arr([6, 4, 2], floating=False, dtype="int32")),
            {"greedy": False, "beam_width": 5, "top_paths": 3}, name="beam_random", rtol=1e-7),
    _decode((Arr(REPEATS), Arr([3], floating=False)),
            {"greedy": False, "beam_width": 3, "top_paths": 2, "merge_repeated": True}, name="beam_merge_repeated", rtol=1e-7,
            oracle=MERGE, expected=lambda y, n, **kw: ([np.array([[1, -1, -1]])] * 2, _beam_scores(y))),
    _decode((Arr(REPEATS), Arr([3], floating=False)), {"greedy": False, "beam_width": 3, "top_paths": 2},
            name="beam_keep_repeated", oracle=MERGE, rtol=1e-7,
            expected=lambda y, n, **kw: ([np.array([[1, 1, -1]]), np.array([[1, -1, -1]])], _beam_scores(y))),
]


CASES = RNN + SWITCH + PHASE + HIGHER_ORDER + CTC
