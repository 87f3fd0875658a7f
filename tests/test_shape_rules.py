"""Declared shape rules agree with the stand-in probes, so that a rule cannot drift from the reference.

Every conformance case whose op has a shape rule (``shape_rule=`` in :func:`kbackend._dispatch.op`), or
is a composite that records such ops, is built as a graph from placeholders: with static shapes, with an
unknown batch, with every dim of the first argument unknown, and with an unknown batch on every input.
The graph is built twice, once with the rules and once with the probes alone: an error with the rules is
the probes' error, and both give outputs of the same dtypes; at each recorded node that has a rule, the
rule's (shape, dtype) is what running the reference on stand-ins gives; and the graph built with the
rules computes values of the shapes it states.
"""

import numpy as np
import pytest

import kbackend as K
from cases import Arr, Ints, Rand, all_cases
from conftest import BACKENDS
from kbackend._dispatch import OPS, active_backend
from kbackend.dtypes import result_dtype
from kbackend.graph import shapes
from kbackend.graph import tensor as recording
from kbackend.graph.program import topological
from test_conformance import INTROSPECTION, numpy_inputs

VARIANTS = ("static", "batch", "first_unknown", "all_batch")


def _records_ruled_ops(case):
    spec = OPS.get(case.op)
    return spec is not None and (spec.shape_rule is not None or spec.composite)


CASES = [c for c in all_cases() if c.symbolic is True and c.op not in INTROSPECTION and _records_ruled_ops(c)]


def _params():
    """Every dtype of a case with an unknown batch (the dtype policies), its first dtype (and int32 or
    bool, whose outputs keep the probes) in every variant."""
    for case in CASES:
        for dtype in case.dtypes:
            variants = VARIANTS if dtype in (case.dtypes[0], "int32", "bool") else ("batch",)
            for variant in variants:
                yield pytest.param(case, dtype, variant, id=f"{case.id}-{dtype}-{variant}")


def _placeholder(value, unknown):
    shape = tuple(None if unknown(i, value.ndim) else d for i, d in enumerate(value.shape))
    return K.placeholder(shape, dtype=K.dtype(value))


def _symbolic_inputs(case, dtype, variant):
    """The case's arguments, its tensors as placeholders whose dims are unknown as ``variant`` says."""
    np_args, np_kwargs = numpy_inputs(case, dtype)
    unknown = {
        "static": lambda position: lambda i, ndim: False,
        "batch": lambda position: lambda i, ndim: position == 0 and i == 0 and ndim > 1,
        "first_unknown": lambda position: lambda i, ndim: position == 0,
        "all_batch": lambda position: lambda i, ndim: i == 0 and ndim > 1,
    }[variant]

    def convert(spec, value, position):
        if isinstance(spec, (Rand, Ints, Arr)):
            if isinstance(spec, Rand) and spec.variable:
                return K.variable(value, dtype=K.dtype(value))
            return _placeholder(value, unknown(position))
        if isinstance(spec, list):
            return [convert(s, v, position) for s, v in zip(spec, value)]
        return value

    args = [convert(s, v, i) for i, (s, v) in enumerate(zip(case.args, np_args))]
    kwargs = {k: convert(case.kwargs[k], v, len(args) + 1) for k, v in np_kwargs.items()}
    return args, kwargs


def _build(case, dtype, variant):
    """``(outputs, None)``, or ``(None, error)`` when the op refuses these placeholders."""
    K.clear_session()
    with K.backend_scope("numpy"):
        args, kwargs = _symbolic_inputs(case, dtype, variant)
        try:
            return getattr(K, case.op)(*args, **kwargs), None
        except (ValueError, TypeError) as exc:
            return None, exc


def _symbolic_leaves(out):
    if isinstance(out, (list, tuple)):
        return [leaf for item in out for leaf in _symbolic_leaves(item)]
    return [out] if recording.is_symbolic(out) else []


def _reference(fn):
    if fn.__class__ is str:
        return OPS[fn].reference
    return lambda **kwargs: fn(*kwargs.values())


def _agrees(by_rule, by_probes, probes_ran):
    """The rule's ("tensor", shape, dtype) against the probes'.  Where a single probe size fitted (the
    op ties an unknown dim to a known one, as a kernel's channels), every unknown dim of the stand-ins
    took that size and the probes call them all static: the rule must then agree on its static dims and
    may leave the others None."""
    if probes_ran > 1 or None not in by_rule[1]:
        return by_rule == by_probes
    (_, rule_shape, rule_dtype), (_, probe_shape, probe_dtype) = by_rule, by_probes
    return rule_dtype == probe_dtype and len(rule_shape) == len(probe_shape) and all(
        r is None or r == p for r, p in zip(rule_shape, probe_shape))


@pytest.mark.parametrize("case,dtype,variant", list(_params()))
def test_rule_agrees_with_probes(case, dtype, variant, monkeypatch):
    ruled, ruled_error = _build(case, dtype, variant)
    with monkeypatch.context() as patched:
        patched.setattr(recording, "declared", lambda fn, kwargs, backend: (None, None))
        probed, probed_error = _build(case, dtype, variant)
    if ruled_error is not None:
        assert (type(ruled_error), str(ruled_error)) == (type(probed_error), str(probed_error))
        return
    if probed_error is not None:
        # No single probe size fits every unknown dim (a (None, None) input whose last dim must match a
        # kernel): the probes refuse a call that the rules record, and that
        # test_ruled_graph_runs_to_its_static_shapes runs.
        return
    assert [t.dtype for t in _symbolic_leaves(ruled)] == [t.dtype for t in _symbolic_leaves(probed)]
    with K.backend_scope("numpy"):
        engine = active_backend()
        for node in topological(_symbolic_leaves(ruled)):
            if shapes.rule_of(node.fn) is None:
                continue
            by_rule = shapes.rule_output(node.fn, node.kwargs, engine)
            if by_rule is None:
                continue
            by_probes, values = recording.infer(_reference(node.fn), node.kwargs, engine)
            ran = sum(value is not recording.UNAVAILABLE for value in values.values())
            assert _agrees(by_rule, by_probes, ran), \
                f"{node.name}: rule {by_rule[1:]} != probes {by_probes[1:]}"


@pytest.mark.parametrize("case,dtype,variant", list(_params()))
def test_ruled_graph_runs_to_its_static_shapes(case, dtype, variant):
    """The graph built with the rules computes values of the shapes it states (None: any size)."""
    K.clear_session()
    np_args, np_kwargs = numpy_inputs(case, dtype)
    with K.backend_scope("numpy"):
        args, kwargs = _symbolic_inputs(case, dtype, variant)
        try:
            out = getattr(K, case.op)(*args, **kwargs)
        except (ValueError, TypeError):
            return  # the op refuses these placeholders: test_rule_agrees_with_probes compares the errors
        outputs = _symbolic_leaves(out)
        feeds = [v for spec, v in _pairs(case, np_args, np_kwargs)]
        placeholders = [t for t in _symbolic_leaves([args, list(kwargs.values())]) if t.node is None]
        values = K.function(placeholders, outputs)(feeds) if outputs else []
    for tensor, value in zip(outputs, values):
        static = K.int_shape(tensor)
        assert len(static) == np.ndim(value) and all(
            d is None or d == v for d, v in zip(static, np.shape(value))), f"{static} vs {np.shape(value)}"


def _pairs(case, np_args, np_kwargs):
    """(spec, value) of each placeholder input, in the order :func:`_symbolic_inputs` makes them."""
    found = []

    def walk(spec, value):
        if isinstance(spec, (Rand, Ints, Arr)):
            if not (isinstance(spec, Rand) and spec.variable):
                found.append((spec, value))
        elif isinstance(spec, list):
            for s, v in zip(spec, value):
                walk(s, v)

    for spec, value in zip(case.args, np_args):
        walk(spec, value)
    for key, value in np_kwargs.items():
        walk(case.kwargs[key], value)
    return found


def test_every_public_rule_has_a_case():
    """Each op with a rule is exercised by a case of its own (the private crossentropy ops through the
    composites that record them)."""
    ruled = {name for name, spec in OPS.items() if spec.shape_rule is not None and not name.startswith("_")}
    assert ruled - {c.op for c in CASES} == set()


def test_policy_gives_the_dtype():
    """The rule's dtype is the declared policy's (``dtypes.result_dtype``), as eager dispatch applies it."""
    K.clear_session()
    with K.backend_scope("numpy"):
        x = K.placeholder((None, 3), dtype="float16")
        y = K.placeholder((None, 3), dtype="float32")
        assert (K.maximum(x, y).dtype, result_dtype(OPS["maximum"].policy, ("float16", "float32"))) == \
            ("float32", "float32")
        assert K.sum(x, axis=1).dtype == "float16"  # accumulated in float32, cast back (accumulate-half)
        assert K.int_shape(K.batch_dot(x, y, axes=1)) == (None, 1)


def test_rule_outputs_stay_consistent_with_the_batch():
    """A dim a rule derives from an unknown batch (a reshape to ``(-1, 2)``) takes, at each probe of a
    later op, the size that the batch's probe gives it: reshaping back by ``K.shape`` works."""
    K.clear_session()
    with K.backend_scope("numpy"):
        x = K.placeholder((None, 4, 3))
        flat = K.reshape(x, (-1, 2))
        assert flat.stand_ins == {} and K.int_shape(flat) == (None, 2)
        back = K.reshape(flat, K.shape(x))
        assert K.int_shape(back) == (None, 4, 3)
        value = np.arange(24, dtype="float32").reshape(2, 4, 3)
        np.testing.assert_array_equal(K.function([x], [back])([value])[0], value)


def test_shape_values_are_kept():
    """Ops on int tensors, and ops on tensors carrying shape values, keep their stand-in values."""
    K.clear_session()
    with K.backend_scope("numpy"):
        x = K.placeholder((None, 4))
        batch = K.cast(K.shape(x)[0], "float32") * 2.0  # a float carrying the batch size
        assert {int(v) for v in batch.stand_ins.values()} == {0, 4}
        rows = K.reshape(x, (K.cast(batch, "int32"), 2))
        assert K.int_shape(rows) == (None, 2)


@pytest.mark.parametrize("backend", BACKENDS)
def test_comparison_of_independent_unknown_dims(backend):
    """Keras's ``acc`` metric on a rank-3 output: ``K.equal(K.argmax(y_true), K.argmax(y_pred))`` with an
    all-None target placeholder.  No single probe size fits both (the target's dims are free, the
    prediction's are 4 and 2): the rule gives ``(None, 4, 2)`` where a lone probe at size 1 would have
    pinned the batch to 1, and the ops after it (a cast without a rule, a mean) still record."""
    K.clear_session()
    mean = np.random.default_rng(0).random((4, 2, 3))
    rng = np.random.default_rng(1)
    x_value, t_value = rng.random((5, 4, 2, 3)), rng.random((5, 4, 2, 3))
    with K.backend_scope(backend):
        x = K.placeholder((None, 4, 2, 3))
        target = K.placeholder((None, None, None, None))
        y_pred = x - mean  # stand-ins with values: the probes cannot be skipped
        hits = K.equal(K.argmax(target, axis=-1), K.argmax(y_pred, axis=-1))
        accuracy = K.mean(K.cast(hits, K.floatx()))
        assert K.int_shape(hits) == (None, 4, 2)
        assert K.int_shape(K.cast(hits, "float32")) == (None, 4, 2)
        got_hits, got_accuracy = K.function([x, target], [hits, accuracy])([x_value, t_value])
    expected = np.argmax(t_value, -1) == np.argmax(x_value - mean, -1)
    np.testing.assert_array_equal(got_hits, expected)
    np.testing.assert_allclose(got_accuracy, expected.mean(), rtol=1e-6)


def test_dims_the_probes_shrink_to_nothing_stay_unknown():
    """A deep stack of strided 'valid' convolutions on images of unknown size (InceptionResNetV2 without
    its top) shrinks every probe size to 0 before an op without a rule (Keras's BatchNormalization
    switches on the learning phase): its output dims are unknown, not empty."""
    K.clear_session()
    rng = np.random.default_rng(2)
    kernel = rng.standard_normal((3, 3, 2, 2)).astype("float32")
    with K.backend_scope("numpy"):
        x = K.placeholder((None, None, None, 2))
        y = x
        for _ in range(7):
            y = K.conv2d(y, kernel, strides=(2, 2), padding="valid")
        out = K.in_train_phase(y * 2.0, y)  # a switch: no rule, so the probes decide
        assert K.int_shape(y) == K.int_shape(out) == (None, None, None, 2)
        image = rng.standard_normal((1, 400, 400, 2)).astype("float32")
        got = K.function([x, K.learning_phase()], [out])([image, 1])[0]
        expected = image
        for _ in range(7):
            expected = K.conv2d(expected, kernel, strides=(2, 2), padding="valid")
    assert got.shape == (1, 2, 2, 2)
    np.testing.assert_allclose(got, 2.0 * expected, rtol=1e-4)
