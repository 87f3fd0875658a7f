"""Recording op nodes: the dispatcher's symbolic branch.

Every op called with a symbolic argument lands in :func:`record` (the one branch in the dispatcher):
composite ops run their K-call bodies on the symbolic values, so they decompose into primitive nodes;
primitive ops become nodes whose output shape and dtype come from the op's declared shape rule
(:mod:`.shapes`) or else from running the NumPy reference on stand-in arrays — the same code that
computes eager results, so the two cannot disagree.
"""

import contextlib
import warnings

import numpy as np

from .. import config
from .._dispatch import OPS, active_backend, backend_scope, symbolic
from ..dtypes import FLOATS, canonical_dtype, numpy_dtype
from .function import evaluate
from .node import (UNAVAILABLE, Node, SeedStream, SymbolicTensor, existing_learning_phase, is_symbolic, leaves, map_structure,
                   node_serials, unique_name)
from .program import compile_program, placeholders_of, replay, seed_streams, topological
from .shapes import declared, fill_stand_ins, is_engine_tensor, shaped_by_rule, substituted
from .vjp import BackwardPlan


def _camel(name):
    return "".join(part.capitalize() for part in name.split("_"))


# ---------------------------------------------------------------------------------------------------
# shape and dtype inference: run the NumPy reference on stand-ins


#: Sizes tried for unknown dims: two runs that agree on a dim make it static, else it is None.  An
#: empty batch comes first: it costs nothing however large the other dims are (a ResNet's 224×224
#: activations), and an op that cannot take it (a reduction over the batch) moves on to the next size.
_PROBES = (0, 2, 3, 1, 4, 5, 6, 7, 8)

#: Stand-in values up to this many bytes are kept on their tensor (shape arithmetic: ``K.shape(x)``,
#: its entries, scalars); larger ones keep only their shape and dtype and are zeros when read again.
_KEPT_BYTES = 1 << 16

#: Unknown dims beyond the first (image sides, sequence lengths) also get a third, wide run: the first
#: axis keeps the first probe's size, the others take this one.  Strides and pools collapse 2 and 3 to
#: the same size (a fully convolutional net on ``(None, None, None, 3)`` would look 4x4); 64 keeps
#: five halvings apart.
_WIDE = 64


def _stand_in(value, probe, backend):
    if value.__class__ is SeedStream:
        return value.base
    if isinstance(value, SymbolicTensor):
        stand_ins = value.stand_ins
        known = stand_ins.get(probe)
        if known is None and stand_ins:
            if not value.dynamic:  # the same at every probe
                known = next((v for v in stand_ins.values() if v is not UNAVAILABLE), UNAVAILABLE)
            elif _rerunnable(value, probe):
                _rerun(value, probe)
                known = stand_ins.get(probe)
        if known is UNAVAILABLE:
            if None not in value.shape and value.dtype in FLOATS or shaped_by_rule(value):
                # A float tensor of fixed shape (a loss over a batch that a fixed-size input pinned), or
                # one whose rule gave its shape: its shape is all that later ops read.
                return np.zeros(substituted(value.shape, probe), dtype=numpy_dtype(value.dtype))
            raise ValueError(f"{value.name} cannot be computed with unknown dims of size {probe}")
        if known is not None:
            return known if known.__class__ is np.ndarray else np.zeros(*known)
        if value.default is not None:
            return np.asarray(value.default, dtype=numpy_dtype(value.dtype))
        return np.zeros(substituted(value.shape, probe), dtype=numpy_dtype(value.dtype))
    if value.__class__ in symbolic.variable_types or is_engine_tensor(value, backend):
        return np.asarray(backend.eval(value))
    return value




def _probe_size(probe, axis):
    """The size ``probe`` gives an unknown dim at ``axis`` (a wide probe: its first size on axis 0)."""
    if probe.__class__ is tuple:
        return probe[0] if axis == 0 else probe[1]
    return probe


def _rerunnable(tensor, probe):
    """True when ``tensor`` needs its node rerun for a stand-in at ``probe``.

    Not so for a tensor with unknown dims that took the probe size at every probe it ran at, two of
    them at least (a ResNet activation ``(batch, 7, 7, 2048)``, a network's output): as for a
    placeholder, its stand-in is zeros with those dims at the probe size, which spares rerunning a
    network when its loss needs another batch size.  Shape arithmetic (``K.shape(x)`` and its entries:
    no unknown dim) and sizes that are not the probe's (``reshape(x, (-1, n))``) are rerun."""
    if tensor.node is None or tensor.node.reference is None:
        return False
    if None not in tensor.shape:
        return True
    shapes = {k: v.shape if v.__class__ is np.ndarray else v[0] for k, v in tensor.stand_ins.items()
              if v is not UNAVAILABLE}
    if sum(k.__class__ is not tuple for k in shapes) < 2:
        return True
    return any(len(shape) != len(tensor.shape) or any(
        d is None and size != _probe_size(key, axis) for axis, (d, size) in enumerate(zip(tensor.shape, shape)))
        for key, shape in shapes.items())


def _rerun(tensor, probe):
    """Give ``tensor`` its stand-in at ``probe`` by rerunning, inputs first, the references of the
    nodes it is computed from that never ran at that probe.

    All the stand-ins one op reads at a probe must come from one evaluation of the graph with the
    unknown dims at that size: an op that stopped after two probes (0 and 2, say) has no value at 3,
    and zeros of its shape with None read as 3 would be wrong in shape (``reshape(x, (-1, n))``) and in
    value (``K.shape(x)[1]`` reads 0); a later op that needs probe 3 then mixed probes and failed or
    took a None dim for a static one.  A probe a node cannot take is remembered as unavailable."""
    order, seen = [], set()
    stack = [(tensor.node, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        fill_stand_ins(node.kwargs, probe, node.backend)  # inputs that rules give need no rerun
        for value in leaves(node.kwargs):
            if (isinstance(value, SymbolicTensor) and value.dynamic and probe not in value.stand_ins
                    and _rerunnable(value, probe)):
                stack.append((value.node, False))
    for node in order:
        try:
            value = _run_reference(node.reference, node.kwargs, probe, node.backend)
        except Exception:  # noqa: BLE001 - a size this node cannot take: so neither can what reads it
            value = UNAVAILABLE
        _attach(node.outputs, value, probe)


def _run_reference(fn, kwargs, probe, backend):
    fill_stand_ins(kwargs, probe, backend)
    concrete = {k: map_structure(lambda v: _stand_in(v, probe, backend), v) for k, v in kwargs.items()}
    with symbolic.suspended(), backend_scope("numpy"), np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(**concrete)


def _meta(value):
    if value is None or isinstance(value, (bool, int, float, str)) and not isinstance(value, np.generic):
        return value
    array = np.asarray(value)
    return array.shape, canonical_dtype(array.dtype)


def infer(fn, kwargs, backend):
    """Run ``fn`` on stand-ins; return (output structure with (shape, dtype) leaves, {probe: value}).

    Unknown dims become a probe size (2, then 3, …); dims that agree across two probes are static, the
    others None.  Each symbolic output keeps its stand-in values, so a later op fed with, say,
    ``K.shape(x)[0]`` sees the matching size rather than an arbitrary one; the probes the op failed at
    are in the dict too, as unavailable, and a probe an input never ran at is rerun (:func:`_rerun`).
    """
    has_unknown = any(isinstance(v, SymbolicTensor) and v.dynamic for v in leaves(kwargs))
    wanted = 2 if has_unknown else 1
    values, failed, error = {}, [], None
    for probe in _candidates(kwargs) if has_unknown else _PROBES[:1]:
        try:
            values[probe] = _run_reference(fn, kwargs, probe, backend)
        except Exception as exc:  # noqa: BLE001 - a size the op cannot take; try the next one
            error = error or exc
            failed.append(probe)
        if len(values) == wanted:
            break
    if not values:
        raise error
    ran = len(values)
    values.update(dict.fromkeys(failed, UNAVAILABLE))  # remembered: the ops after this one skip them
    if ran == 2 and any(isinstance(v, SymbolicTensor) and None in v.shape[1:] for v in leaves(kwargs)):
        wide = (next(iter(values)), _WIDE)
        try:
            values[wide] = _run_reference(fn, kwargs, wide, backend)
        except Exception:  # noqa: BLE001 - sizes the op cannot take together: the two runs decide
            pass
    results = [_structure(v) for v in values.values() if v is not UNAVAILABLE]
    merged = _merge(results[0], results[1] if len(results) > 1 else results[0])
    merged = _merge(_unmerged(merged), results[2]) if len(results) > 2 else merged
    if has_unknown and not any(0 in getattr(v, "shape", ()) for v in leaves(kwargs) if isinstance(v, SymbolicTensor)):
        merged = _unknown_zeros(merged)
    return merged, values


def _unknown_zeros(meta):
    """A merged structure whose empty dims are unknown: computed from unknown dims, a dim that is 0 at
    every probe is one that the probe sizes shrank to nothing (a deep stack of strided 'valid'
    convolutions on images of unknown size), not one known to be empty."""
    if isinstance(meta, tuple) and meta and meta[0] == "tensor":
        return "tensor", tuple(None if d == 0 else d for d in meta[1]), meta[2]
    if isinstance(meta, (list, tuple)):
        return type(meta)(_unknown_zeros(m) for m in meta)
    return meta


def _unmerged(meta):
    """A merged structure back in the (shape, dtype) form that :func:`_merge` takes."""
    if isinstance(meta, tuple) and meta and meta[0] == "tensor":
        return meta[1], meta[2]
    if isinstance(meta, (list, tuple)):
        return type(meta)(_unmerged(m) for m in meta)
    return meta


def _candidates(kwargs):
    """Probe sizes: the defaults, then the static dims of the other inputs (an unknown batch dim
    often has to match another input's known one)."""
    static = set()
    for value in leaves(kwargs):
        shape = value.shape if isinstance(value, SymbolicTensor) else getattr(value, "shape", ())
        static.update(d for d in shape if isinstance(d, int) and d > 0)
    return _PROBES + tuple(sorted(static - set(_PROBES)))


def _structure(value):
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return type(value)(_structure(v) for v in value)
    return _meta(value)


def _merge(a, b):
    if isinstance(a, (list, tuple)) and not (len(a) == 2 and isinstance(a[1], str)):
        return type(a)(_merge(x, y) for x, y in zip(a, b))
    if not isinstance(a, tuple):
        return a
    (shape_a, dtype), (shape_b, _) = a, b
    shape = tuple(None if x != y else x for x, y in zip(shape_a, shape_b))
    return ("tensor", shape, dtype)


def _outputs(node, meta, path=(), counter=None):
    counter = counter if counter is not None else [0]
    if isinstance(meta, tuple) and meta and meta[0] == "tensor":
        _, shape, dtype = meta
        tensor = SymbolicTensor(shape, dtype, node, path, f"{node.name}:{counter[0]}")
        counter[0] += 1
        return tensor
    if isinstance(meta, (list, tuple)):
        return type(meta)(_outputs(node, m, path + (i,), counter) for i, m in enumerate(meta))
    return meta


# ---------------------------------------------------------------------------------------------------
# recording


#: Ops answered from the symbolic tensor itself instead of recording a node.
STATIC = {
    "int_shape": lambda x: x.shape,
    "ndim": lambda x: len(x.shape),
    "dtype": lambda x: x.dtype,
    "is_tensor": lambda x: True,
    "is_variable": lambda x: False,
    "is_sparse": lambda tensor: False,
    "is_placeholder": lambda x: x.node is None,
    "is_keras_tensor": lambda x: hasattr(x, "_keras_history"),
    "count_params": lambda x: _count_params(x),
}


def _count_params(x):
    if None in x.shape:
        raise ValueError(f"count_params: argument `x` got {x!r}; expected a fully known shape")
    return int(np.prod(x.shape, dtype=np.int64))


def _static_arg(name, kwargs):
    spec = OPS[name]
    return kwargs[next(iter(spec.signature.parameters))]


#: Ops that act at once when their only deferred arguments are variables (no symbolic tensor).  The
#: updates are not among them: in graph mode ``K.update_add(iterations, 1)`` is an update op that
#: ``K.function(..., updates=[...])`` applies on every call (Keras 2 optimizers are written this way);
#: ``K.eval`` of it applies it once.
IMMEDIATE = frozenset(
    """variable constant set_value batch_set_value get_value batch_get_value eval is_sparse to_dense
    is_variable is_tensor is_keras_tensor is_placeholder int_shape ndim dtype count_params shape size
    zeros_like ones_like""".split()
)


def record(name, kwargs):
    """The dispatcher's symbolic branch: answer, decompose or record op ``name``."""
    if name in IMMEDIATE and not any(is_symbolic(v) for v in leaves(kwargs)):
        return getattr(active_backend(), name)(*kwargs.values())
    if name in STATIC:
        return STATIC[name](_static_arg(name, kwargs))
    if name in ("eval", "get_value"):
        return evaluate(kwargs["x"])
    if name == "batch_get_value":
        return [evaluate(x) if is_symbolic(x) else active_backend().eval(x) for x in kwargs["ops"]]
    spec = OPS[name]
    rule = SPECIAL.get(name)
    if rule is not None:
        return rule(kwargs)
    if spec.composite:
        return spec.reference(**kwargs)
    if name in RANDOM_OPS and kwargs.get("seed") is not None:
        kwargs = dict(kwargs, seed=SeedStream(kwargs["seed"]))
    return record_node(name, kwargs, spec.reference)


def record_node(name, kwargs, reference, prefix=None):
    symbolic.build_here()  # a thread that records builds graphs: its ops on variables record from now on
    backend = active_backend()
    meta, ruled = declared(name, kwargs, backend)  # the op's shape rule, when it has one that decides
    dynamic_inputs = any(isinstance(v, SymbolicTensor) and v.dynamic for v in leaves(kwargs))
    if meta is None:
        meta, values = infer(reference, kwargs, backend)
        # Computed from unknown dims; a node that could run at one size only pins them: static, shape and value.
        dynamic = sum(value is not UNAVAILABLE for value in values.values()) > 1
        single = isinstance(meta, tuple) and len(meta) == 3 and meta[0] == "tensor"
        if single and ruled is not None and len(ruled[1]) == len(meta[1]) and ruled[1] != meta[1]:
            # The rule knows which dims follow which inputs; probes tie every unknown dim to one size,
            # and a node that ran at one size only would pin dims that are free.
            meta, dynamic = ("tensor", ruled[1], meta[2]), dynamic or dynamic_inputs and None in ruled[1]
        else:
            ruled = None
    else:
        values, dynamic = {}, dynamic_inputs
    node = Node(name, kwargs, backend, unique_name(prefix or _camel(name)))
    node.reference = reference  # a later op may need a stand-in at another probe (see `_rerun`)
    node.outputs = _outputs(node, meta)
    for output in leaves(node.outputs):
        if dynamic and isinstance(output, SymbolicTensor):
            output.dynamic = True
        if ruled is not None and isinstance(output, SymbolicTensor):
            output.ruled = True
    for probe, value in values.items():
        if dynamic or value is not UNAVAILABLE:
            _attach(node.outputs, value, probe)
    return node.outputs


def _attach(outputs, value, probe):
    if isinstance(outputs, SymbolicTensor):
        if value is not UNAVAILABLE:
            value = np.asarray(value)
            value = value if value.nbytes <= _KEPT_BYTES else (value.shape, value.dtype)
        outputs.stand_ins[probe] = value
    elif isinstance(outputs, (list, tuple)) and (value is UNAVAILABLE or isinstance(value, (list, tuple))):
        for i, o in enumerate(outputs):
            _attach(o, value if value is UNAVAILABLE else value[i], probe)


def record_operator(name, fn, *args):
    """A Python operator applied to a symbolic tensor (``x + 1``, ``x[0]``, ``-x``).

    A NumPy scalar operand is recorded as the Python number it holds, so that it is weak as in Keras 2
    (``scores / np.sqrt(d)`` stays float32): NumPy would widen the stand-ins to float64 while torch and
    TensorFlow keep float32 when the function runs, and the graph's dtypes would disagree with its values."""
    kwargs = {f"arg{i}": a.item() if isinstance(a, np.generic) else a for i, a in enumerate(args)}
    return record_node(fn, kwargs, lambda **kw: fn(*kw.values()), prefix=_camel(name))


def _update_rule(kind):
    def rule(kwargs):
        x = kwargs["x"]
        if not active_backend().is_variable(x):
            raise TypeError(f"{kind}: argument `x` got {type(x).__name__}; expected a variable (K.variable)")
        node = Node(kind, kwargs, active_backend(), unique_name(_camel(kind)))
        shape = tuple(x.shape)
        node.outputs = SymbolicTensor(shape, canonical_dtype(active_backend().dtype(x)), node, (), node.name + ":0")
        return node.outputs

    return rule


#: Ops whose ``seed`` becomes a :class:`SeedStream` inside a graph.
RANDOM_OPS = frozenset("dropout random_normal random_uniform random_bernoulli truncated_normal".split())


def _dropout_rule(kwargs):
    """Dropout always drops, as Keras 2's ``K.dropout`` (only ``in_train_phase`` reads the learning
    phase); its seed becomes a stream so that each call of a function draws a new mask."""
    if kwargs.get("seed") is not None:
        kwargs = dict(kwargs, seed=SeedStream(kwargs["seed"]))
    return record_node("dropout", kwargs, OPS["dropout"].reference)


def _loop_rule(name, tensor_arg, axis):
    """Loops (map_fn, the folds, rnn) unroll into primitive nodes when their length is known; over an
    unknown length (a batch or time dimension that is None) they become one node that the engine runs
    on the fed values — a Python loop on NumPy and torch, ``lax.map``/``lax.scan`` under ``jax.jit``,
    ``tf.map_fn``/``tf.while_loop`` in TensorFlow — as Keras 2's ``tf.map_fn`` and ``K.rnn`` did."""

    def rule(kwargs):
        value = kwargs[tensor_arg]
        if not (is_symbolic(value) and len(value.shape) > axis and value.shape[axis] is None):
            result = OPS[name].reference(**kwargs)
        else:
            loop = _Loop(name, kwargs)
            node_kwargs = dict(kwargs, captured=loop.captured, variables=loop.variables, seeds=loop.seeds)
            if name == "rnn":
                node_kwargs["constants"] = None  # the traced body reads them as captured tensors
            result = record_node(loop, node_kwargs, loop, prefix=_camel(name))
        if name == "rnn" and _reads_learning_phase(result[0]):
            result[0]._uses_learning_phase = True  # as Keras 2's K.rnn: its RNN layers then feed the phase
        return result

    return rule


def _reads_learning_phase(tensor):
    """True when the learning phase placeholder is among what ``tensor`` is computed from."""
    phase = existing_learning_phase()
    if phase is None or not is_symbolic(tensor):
        return False
    return any(value is phase for node in topological(tensor) for value in node.inputs())


class _Loop:
    """The function of a loop node over an unknown length.

    Its body (a Python function: the rnn step, the map or fold function) is traced once, on
    placeholders for its per-step arguments, into a sub-graph, as TensorFlow traced a while-loop body.
    Each step then replays that sub-graph on the engine; what the body reads from outside — graph
    tensors such as dropout masks or the learning phase, and variables — are arguments of the node
    (``captured``, ``variables``), so the graph computes them first and the engines differentiate
    through them.  Keras code in the body that sets attributes on tensors runs on symbolic tensors
    only."""

    def __init__(self, name, kwargs):
        self.name = self.__name__ = name
        start = next(node_serials)
        self.params, self.outputs = self._trace(name, kwargs)
        inner = [t for t in leaves(self.params) if is_symbolic(t)]
        inner_ids = {id(t) for t in inner}
        self.nodes = [n for n in topological(self.outputs) if n.serial > start]
        own = {id(n) for n in self.nodes}
        captured, variables, literals = {}, {}, {}
        backend = self.engine = active_backend()
        for node in self.nodes:
            for value in leaves(node.kwargs):
                if is_symbolic(value):
                    if id(value) not in inner_ids and (value.node is None or id(value.node) not in own):
                        captured[id(value)] = value
                elif value.__class__ in symbolic.variable_types and backend.is_variable(value):
                    variables[id(value)] = value
                elif is_engine_tensor(value, backend):
                    literals[id(value)] = value
        for value in leaves(self.outputs):  # a body may return an outside tensor as it is
            if is_symbolic(value) and id(value) not in inner_ids and (value.node is None or id(value.node) not in own):
                captured[id(value)] = value
        self.captured = list(captured.values())
        self.variables = list(variables.values())
        # Engine tensors the body holds as they are (a composite's K.constant): when the graph is
        # probed, the body runs on NumPy and reads them as arrays.
        self.literals = list(literals.values())
        self._literal_arrays = None
        # The random ops of the body draw their seeds once per run, outside: every step of one run
        # sees the same dropout mask, as Keras 2's recurrent dropout intends.
        self.seeds = seed_streams(self.nodes)
        self.arg_names = list(OPS[name].signature.parameters) + ["captured", "variables", "seeds"]
        self._programs = {}

    @staticmethod
    def _trace(name, kwargs):
        def like(tensor, drop):
            """A placeholder for one step's slice of ``tensor`` (axis ``drop`` removed)."""
            shape = tuple(tensor.shape[:drop]) + tuple(tensor.shape[drop + 1:]) if drop is not None else tensor.shape
            return SymbolicTensor(shape, tensor.dtype, None, None, unique_name(f"{_camel(name)}/arg") + ":0")

        def as_tensor(value):
            if is_symbolic(value):
                return value
            array = np.asarray(active_backend().eval(value) if value.__class__ in symbolic.variable_types else value)
            return SymbolicTensor(array.shape, canonical_dtype(array.dtype))

        if name == "rnn":
            inputs = kwargs["inputs"]
            states = [like(as_tensor(s), None) for s in kwargs["initial_states"] or ()]
            params = (like(inputs, 1), states)
            outputs = kwargs["step_function"](params[0], list(states) + list(kwargs["constants"] or ()))
        elif name == "map_fn":
            params = (like(kwargs["elems"], 0),)
            outputs = kwargs["fn"](params[0])
        else:
            elems = kwargs["elems"]
            first = like(elems, 0)
            initializer = kwargs["initializer"]
            start = like(as_tensor(initializer), None) if initializer is not None else like(elems, 0)
            params = (start, first)
            outputs = kwargs["fn"](start, first)
        return params, outputs

    def step(self, captured_values, variable_values, seed_values):
        """The body as a function of one step's arguments, replaying the traced sub-graph."""
        backend = active_backend()
        program = self._programs.get(backend.name)
        if program is None:
            program = self._programs[backend.name] = compile_program(self.nodes, backend)
        outer = {id(t): v for t, v in zip(self.captured, captured_values)}
        outer.update((id(s), v) for s, v in zip(self.seeds, seed_values))
        substitute = {id(var): value for var, value in zip(self.variables, variable_values) if value is not var}
        if backend.name == "numpy" and self.engine.name != "numpy" and self.literals:
            if self._literal_arrays is None:
                self._literal_arrays = {id(t): np.asarray(self.engine.eval(t)) for t in self.literals}
            substitute.update(self._literal_arrays)
        params = self.params

        def body(*args):
            env = dict(outer)
            for placeholder, value in zip(leaves(params), leaves(_aligned(params, args))):
                env[id(placeholder)] = value
            replay(program, env, _NO_GRADIENT, substitute or None)
            return map_structure(lambda t: env[id(t)] if is_symbolic(t) else substitute.get(id(t), t), self.outputs)

        return body

    def __call__(self, *args, **kwargs):
        values = dict(zip(self.arg_names, args), **kwargs)
        body = self.step(values.pop("captured"), values.pop("variables"), values.pop("seeds"))
        values["step_function" if self.name == "rnn" else "fn"] = body
        return getattr(active_backend(), self.name)(*values.values())


    # -----------------------------------------------------------------------------------------------
    # the NumPy gradient: the loop unrolled at the length it ran with, then the per-op rules

    def vjp(self, g, value, **args):
        """Cotangents of the node's tensor arguments (``vjp.py`` rule signature) for the engines
        without autodiff of their own.  The traced body is cloned, step after step, into a graph of
        the length this run had (cached per shapes), whose gradients the per-op rules give; random
        ops in the body get this run's seeds, so they draw the masks the forward pass drew."""
        names = ["inputs", "initial_states", "mask"] if self.name == "rnn" else ["elems", "initializer"]
        tensors = {n: args.get(n) for n in names}
        key = tuple((n, _signature(tensors[n])) for n in names) + (_signature(args["captured"]),)
        plan = self._vjp_plans.get(key) if hasattr(self, "_vjp_plans") else None
        if plan is None:
            self._vjp_plans = getattr(self, "_vjp_plans", {})
            plan = self._vjp_plans[key] = self._unrolled(tensors, args, g)
        placeholders, cotangent_slots, streams, targets, loss, program, backward = plan
        env = {}
        for name, slots in placeholders.items():
            for slot, given in zip(leaves(slots), leaves(tensors[name] if name != "captured" else args["captured"])):
                env[id(slot)] = given
        flat_g = g if isinstance(g, list) else [g]
        for slot, cotangent, out in zip(cotangent_slots, flat_g, leaves(value) if isinstance(g, list) else [value]):
            env[id(slot)] = np.zeros_like(out) if cotangent is None else cotangent
        for stream in streams:
            env[id(stream)] = args["seeds"][stream.base]
        with symbolic.suspended():
            replay(program, env, None)
        cotangents = backward.sweep(env)
        grads = {name: map_structure(lambda slot: None if slot is None else BackwardPlan.gradient(slot, cotangents, env),
                            slots) for name, slots in placeholders.items()}
        grads["variables"] = [BackwardPlan.gradient(v, cotangents, env) for v in self.variables]
        return grads

    def _unrolled(self, tensors, args, g):
        with _recording():
            def slot(value):
                if value is None:
                    return None
                array = np.asarray(value)
                return placeholder(array.shape, dtype=canonical_dtype(array.dtype))

            placeholders = {name: map_structure(slot, value) for name, value in tensors.items()}
            placeholders["captured"] = [slot(v) for v in args["captured"]]
            outer = {id(t): p for t, p in zip(self.captured, placeholders["captured"])}
            seeds = {id(s): i for i, s in enumerate(self.seeds)}
            loop_args = dict(args, **{n: placeholders[n] for n in tensors}, captured=None, variables=None, seeds=None)
            loop_args["step_function" if self.name == "rnn" else "fn"] = self._clone_body(outer, seeds)
            for extra in ("captured", "variables", "seeds"):
                loop_args.pop(extra)
            outputs = OPS[self.name].reference(**loop_args)
            flat = [t for t in leaves(outputs)]
            cotangent_slots = [placeholder(tuple(t.shape), dtype=t.dtype) if is_symbolic(t) else None for t in flat]
            loss = None
            for out, cot in zip(flat, cotangent_slots):
                if cot is not None:
                    term = OPS["sum"].public(out * cot)
                    loss = term if loss is None else loss + term
        nodes = topological(loss)
        targets = [t for t in leaves(placeholders) if is_symbolic(t)] + list(self.variables)
        backend = active_backend()
        return (placeholders, cotangent_slots, seed_streams(nodes), targets, loss,
                compile_program(nodes, backend), BackwardPlan(loss, nodes, targets, backend))

    def _clone_body(self, outer, seeds):
        """The body as a function of symbolic step arguments that records a copy of the traced
        sub-graph (``outer``: what the copy reads instead of the captured tensors; ``seeds``: the index
        each random op's seed stream has among the node's seeds)."""
        params, nodes, outputs = self.params, self.nodes, self.outputs

        def body(*step_args):
            env = dict(outer)
            for placeholder_, value in zip(leaves(params), leaves(_aligned(params, step_args))):
                env[id(placeholder_)] = value

            def swap(value):
                if value.__class__ is SeedStream:
                    return SeedStream(seeds[id(value)])
                return env.get(id(value), value) if is_symbolic(value) else value

            for node in nodes:  # recorded as they were, not through the public ops' graph rules again
                kwargs = {k: map_structure(swap, v) for k, v in node.kwargs.items()}
                fn = node.fn
                reference = OPS[fn].reference if isinstance(fn, str) else fn if isinstance(fn, _Loop) else \
                    (lambda f: lambda **kw: f(*kw.values()))(fn)
                result = record_node(fn, kwargs, reference, prefix=_camel(fn if isinstance(fn, str) else "clone"))
                for old, new in zip(leaves(node.outputs), leaves(result)):
                    env[id(old)] = new
            return map_structure(lambda t: env.get(id(t), t) if is_symbolic(t) else t, outputs)

        return body


def _signature(value):
    return tuple((np.shape(v), np.asarray(v).dtype.str) if v is not None else None for v in leaves(value))


@contextlib.contextmanager
def _recording():
    """Record on this thread even while it replays a function (a gradient rule builds a graph); after
    it, the thread is as it was (an eager thread stays eager)."""
    state, building = symbolic._replaying, symbolic._building
    depth, generation = getattr(state, "depth", 0), getattr(building, "generation", None)
    state.depth = 0
    symbolic.build_here()
    try:
        yield
    finally:
        state.depth = depth
        if generation is None:
            del building.generation
        else:
            building.generation = generation


def _aligned(params, args):
    """The step's arguments in the structure of ``params`` (rnn states arrive as a list)."""
    if len(params) == 2 and isinstance(params[1], list):
        return (args[0], list(args[1])[:len(params[1])])
    return args


class _NoGradient:
    """Loop bodies hold no gradient nodes; their engines differentiate through the loop itself."""

    def __call__(self, node, env):
        raise NotImplementedError("gradient nodes inside a loop body")

    @staticmethod
    def watch(value):
        return value


_NO_GRADIENT = _NoGradient()


def _switch_rule(kwargs):
    """Callable branches are traced now, as TensorFlow's ``cond`` traced both of its branches: the node
    selects between two recorded tensors."""
    kwargs = dict(kwargs)
    for key in ("then_expression", "else_expression"):
        if callable(kwargs[key]):
            kwargs[key] = kwargs[key]()
    result = record_node("switch", kwargs, OPS["switch"].reference)
    phase = existing_learning_phase()
    if phase is not None and kwargs["condition"] is phase:
        result._uses_learning_phase = True  # in_train_phase: Keras 2 must feed the phase
    return result


def _phase_rule(name):
    """``in_train_phase`` / ``in_test_phase``: the composite body, its result tagged
    ``_uses_learning_phase`` when it depends on a phase known only at run time, which tells Keras 2 to
    feed the phase to its functions."""

    def rule(kwargs):
        result = OPS[name].reference(**kwargs)
        if is_symbolic(result) and result.node is not None and result.node.fn == "switch":
            result._uses_learning_phase = True
        return result

    return rule


def _print_rule(kwargs):
    """``print_tensor`` prints when a function runs, not while its shape is inferred."""
    return record_node("print_tensor", kwargs, lambda x, message="": x)


def _keras_shaped_rule(name):
    """Recorded as usual; the output also carries ``_keras_shape``, as Keras 2's TensorFlow backend set it
    on ``repeat_elements`` over an unknown axis (its backend tests read it)."""

    def rule(kwargs):
        outputs = record_node(name, kwargs, OPS[name].reference)
        outputs._keras_shape = outputs.shape
        return outputs

    return rule


def _variable_rule(kwargs):
    """A variable made from a graph tensor takes that tensor's value now, as a TensorFlow 1 variable's
    initializer ran once: the result is a variable that optimizers update (Keras's identity initializer
    gives ``gain * K.eye(n)``, a graph tensor once the thread builds graphs), never a graph node."""
    value = kwargs["value"]
    if is_symbolic(value):
        if any(t.default is None for t in placeholders_of(topological([value]), [value])):
            raise ValueError(f"variable: argument `value` got {value!r}, which needs a fed placeholder; expected a "
                             "value, or a tensor computed from variables and constants")
        value = evaluate(value)
    return active_backend().variable(value, kwargs["dtype"], kwargs["name"], kwargs["constraint"])


SPECIAL = {
    "print_tensor": _print_rule,
    "variable": _variable_rule,
    "repeat_elements": _keras_shaped_rule("repeat_elements"),
    "switch": _switch_rule,
    "in_train_phase": _phase_rule("in_train_phase"),
    "in_test_phase": _phase_rule("in_test_phase"),
    "map_fn": _loop_rule("map_fn", "elems", 0),
    "foldl": _loop_rule("foldl", "elems", 0),
    "foldr": _loop_rule("foldr", "elems", 0),
    "rnn": _loop_rule("rnn", "inputs", 1),
    "update": _update_rule("update"),
    "update_add": _update_rule("update_add"),
    "update_sub": _update_rule("update_sub"),
    "moving_average_update": _update_rule("moving_average_update"),
    "dropout": _dropout_rule,
}


def _whole(value):
    """An int, a NumPy integer or an integer scalar tensor (``K.int_shape`` entries, ``K.shape(x)[0]``)."""
    if isinstance(value, (bool, np.bool_, float, np.floating, str, bytes)):
        return False
    try:
        return bool(int(value) == value)
    except (TypeError, ValueError, RuntimeError):  # not a number, or a tensor of several values
        return False


def placeholder(shape=None, ndim=None, dtype=None, sparse=False, name=None):
    """Return a symbolic input of ``shape`` (None for unknown dims) and ``dtype`` (default floatx()).

    With only ``ndim`` every dimension is unknown.  Feed it through :func:`kbackend.function`.

    Args:
        shape: A tuple of non-negative ints (or a 1-D int tensor).
        ndim: The rank, when ``shape`` is not given.
        dtype: A dtype name such as 'float32'; None means ``floatx()`` (or the input's dtype where stated).
        sparse: Must be False: sparse placeholders are not implemented.
        name: The placeholder's name (made unique with a counter); None for 'Placeholder'.

    Raises:
        ValueError: neither ``shape`` nor ``ndim`` is given, or ``shape`` is not a tuple of dims.
        NotImplementedError: ``sparse`` is True.
        TypeError: ``dtype`` is not a dtype name.

    >>> import kbackend as K
    >>> x = K.placeholder((2, 3), dtype='float32')
    >>> K.int_shape(x), K.dtype(x)
    ((2, 3), 'float32')
    """
    if shape is None:
        if ndim is None:
            raise ValueError("placeholder: arguments `shape` and `ndim` are both None; expected one of them")
        if not _whole(ndim) or ndim < 0:
            raise (ValueError if _whole(ndim) else TypeError)(
                f"placeholder: argument `ndim` got {ndim!r}; expected a non-negative int")
        shape = (None,) * int(ndim)
    elif _whole(shape):
        shape = (shape,)
    expected = "expected a tuple of non-negative ints or None"
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__iter__"):
        raise TypeError(f"placeholder: argument `shape` got {shape!r}; {expected}")
    dims = tuple(shape)
    if not all(d is None or _whole(d) for d in dims):
        raise TypeError(f"placeholder: argument `shape` got {shape!r}; {expected}")
    shape = tuple(None if d is None else int(d) for d in dims)
    if any(d is not None and d < 0 for d in shape):
        raise ValueError(f"placeholder: argument `shape` got {shape!r}; {expected}")
    if sparse:
        raise NotImplementedError("placeholder: sparse placeholders are not implemented")
    dtype = config._floatx if dtype is None else canonical_dtype(dtype)
    tensor = SymbolicTensor(shape, dtype, None, None, name or unique_name("Placeholder") + ":0")
    tensor._keras_shape = shape  # the attributes Keras 2 reads on its inputs
    tensor._uses_learning_phase = False
    activate()
    return tensor


def activate():
    symbolic.is_symbolic = is_symbolic
    symbolic.record = record
    symbolic.record_operator = record_operator
    symbolic.build_here()
    symbolic.active = True

