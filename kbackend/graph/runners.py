"""How each engine runs a :class:`~kbackend.graph.function.Function`.

A runner takes the ``(placeholder, value)`` feeds, returns the output values (engine tensors) and
assigns the variable updates.  All runners execute the same compiled program
(:func:`~kbackend.graph.function.compile_program`); they differ in how gradients are taken and what
compiles it.  The gradient nodes of one loss (a training step asks for one per weight) are answered
by a single backward pass, whose results are kept in the run's environment under ``("grads", id)``.
"""

import contextlib
import operator

import numpy as np

from .._dispatch import symbolic
from .function import _FED, _UPDATED_VALUE, GRADIENT, UPDATE_KINDS, compile_program, replay, topological
from .tensor import SymbolicTensor, _map, is_symbolic


def make_runner(fn, compile=False, jit=True):
    name = fn.backend.name
    if name == "torch":
        return _torch_runner(fn, compile)
    if name == "jax":
        return _jax_runner(fn, jit)
    if name == "tensorflow":
        return _tensorflow_runner(fn, jit)
    if name == "pytensor":
        return _pytensor_runner(fn)
    return _eager_runner(fn)


class Gradients:
    """The function's gradient nodes, grouped by loss."""

    def __init__(self, nodes):
        self.losses = {}  # id(loss) → loss
        self.by_loss = {}  # id(loss) → [targets], in the order they were asked for
        for node in nodes:
            if node.fn == GRADIENT:
                loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
                self.losses[id(loss)] = loss
                targets = self.by_loss.setdefault(id(loss), [])
                if all(t is not wrt for t in targets):
                    targets.append(wrt)
        self._loss_nodes = {}

    def __bool__(self):
        return bool(self.by_loss)

    def targets(self, loss):
        return self.by_loss[id(loss)]

    def loss_nodes(self, loss):
        """The nodes that compute ``loss`` (cached)."""
        nodes = self._loss_nodes.get(id(loss))
        if nodes is None:
            nodes = self._loss_nodes[id(loss)] = topological(loss)
        return nodes

    def nested(self):
        """True when a loss is itself computed from a gradient (second-order derivatives)."""
        return any(n.fn == GRADIENT for loss in self.losses.values() for n in self.loss_nodes(loss))

    def split(self, nodes):
        """``nodes`` parted into what the losses are computed from and the rest (gradients, updates,
        outputs no loss depends on), each in the original order."""
        first = {id(n) for loss in self.losses.values() for n in self.loss_nodes(loss)}
        return [n for n in nodes if id(n) in first], [n for n in nodes if id(n) not in first]

    def target_ids(self, where):
        """Ids of the symbolic targets for which ``where(tensor)`` holds."""
        return {id(t) for targets in self.by_loss.values() for t in targets if is_symbolic(t) and where(t)}


def _feed_targets(tensor):
    return tensor.node is None


def _intermediate_targets(tensor):
    return tensor.node is not None


def _converter(fn):
    """The function that makes a run's environment: fed values as engine tensors (through the
    backend's non-copying ``feed`` where it has one), then this run's seeds."""
    backend = fn.backend
    feed = getattr(backend.module, "feed", None) or (lambda value, dtype: backend.constant(value, dtype, None, None))
    streams = fn.seed_streams

    def convert(feeds):
        env = {id(tensor): feed(value, tensor.dtype) for tensor, value in feeds}
        for stream in streams:
            env[id(stream)] = stream.next()
        return env

    return convert


def _outputs(fn, env):
    return [env[id(o)] if is_symbolic(o) else o for o in fn.outputs]


def _value_of(target, env):
    return env[id(target)] if is_symbolic(target) else target


# ---------------------------------------------------------------------------------------------------
# NumPy (and any engine without autodiff of its own): eager replay, gradients by the rules in vjp.py


def _eager_runner(fn):
    from .vjp import BackwardPlan

    backend = fn.backend
    convert = _converter(fn)
    program = compile_program(fn.nodes, backend, early=fn.early)
    grads = Gradients(fn.nodes)
    plans = {}

    def gradient(node, env):
        loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
        key = ("grads", id(loss))
        cotangents = env.get(key)
        if cotangents is None:
            plan = plans.get(id(loss))
            if plan is None:
                plan = plans[id(loss)] = BackwardPlan(loss, grads.loss_nodes(loss), grads.targets(loss), backend)
            cotangents = env[key] = plan.sweep(env)
        return BackwardPlan.gradient(wrt, cotangents, env)

    def apply(variable, value, substitute):
        backend.update(variable, value)
        return variable.value.copy()

    gradient.apply = apply

    def run(feeds):
        env = convert(feeds)
        replay(program, env, gradient)
        outputs = [o.value if backend.is_variable(o) else o for o in _outputs(fn, env)]
        if fn.assignments:
            values = [a[0].value for a in fn.assignments]
            outputs = [o.copy() if o.__class__ is np.ndarray and any(np.may_share_memory(o, v) for v in values)
                       else o for o in outputs]  # the values read, not the storage about to change
            for variable, kind, value, scale in fn.assignments:
                _assign_numpy(backend, variable, kind, _value_of(value, env), scale)
        return outputs

    return run


def _assign_numpy(backend, variable, kind, value, scale):
    current = variable.value
    if value.__class__ is not np.ndarray and backend.is_variable(value):
        value = value.value
    if kind != "assign" and value.__class__ is np.ndarray and value.dtype == current.dtype \
            and value.shape == current.shape:
        (np.add if kind == "add" else np.subtract)(current, value if scale is None else value * scale, out=current)
    else:
        backend.update(variable, _combined(kind, current, value, scale))


_UPDATE_OPS = {"assign": "update", "add": "update_add", "sub": "update_sub"}


def _combined(kind, current, value, scale=None):
    """The new value of a variable updated by ``kind`` with ``value`` (times ``scale``)."""
    if scale is not None:
        value = value * scale
    if kind == "add":
        return current + value
    if kind == "sub":
        return current - value
    return value


# ---------------------------------------------------------------------------------------------------
# PyTorch: eager replay under autograd; torch.compile on request


def _torch_runner(fn, compile):
    import torch

    backend = fn.backend
    convert = _converter(fn)
    grads = Gradients(fn.nodes)
    fed_targets = grads.target_ids(_feed_targets)
    # Autograd records only what a loss is computed from; gradients, updates and the other outputs
    # run after it without recording.
    taped, untaped = grads.split(fn.nodes)
    watch = grads.target_ids(_intermediate_targets)
    taped, untaped = (compile_program(taped, backend, watch, fn.early),
                      compile_program(untaped, backend, early=fn.early))
    higher_order = grads.nested()
    # The autograd graph must outlive one backward pass when several losses (or a gradient of a
    # gradient) walk it; otherwise its buffers are freed as soon as the one pass is done.
    retain = higher_order or len(grads.by_loss) > 1

    def gradient(node, env):
        loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
        key = ("grads", id(loss))
        found = env.get(key)
        if found is None:
            found = env[key] = {}
            loss_value = env[id(loss)]
            live = [(t, v) for t in grads.targets(loss) if not is_symbolic(t) or id(t) in env
                    for v in (_value_of(t, env),) if isinstance(v, torch.Tensor) and v.requires_grad]
            if live and loss_value.requires_grad:
                with torch.enable_grad() if higher_order else contextlib.nullcontext():
                    results = torch.autograd.grad(loss_value if loss_value.dim() == 0 else loss_value.sum(),
                                                  [v for _, v in live], retain_graph=retain,
                                                  create_graph=higher_order, allow_unused=True)
                found.update((id(t), g) for (t, _), g in zip(live, results) if g is not None)
        grad = found.get(id(wrt))
        return torch.zeros_like(_value_of(wrt, env)) if grad is None else grad

    def watch_value(value):
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not value.requires_grad:
            value.requires_grad_(True)
        return value

    gradient.watch = watch_value

    def apply(variable, value, substitute):
        backend.update(variable, value)
        return variable.detach().clone()

    gradient.apply = apply

    def run(feeds):
        env = convert(feeds)
        for key in fed_targets:
            value = env[key]
            if value.is_floating_point():
                env[key] = value.detach().requires_grad_(True)
        if grads:
            with torch.enable_grad():
                replay(taped, env, gradient)
        with torch.enable_grad() if higher_order else torch.no_grad():
            replay(untaped, env, gradient)
            outputs = [o.detach() if isinstance(o, torch.Tensor) else o for o in _outputs(fn, env)]
            if fn.assignments:
                storages = {a[0].untyped_storage().data_ptr() for a in fn.assignments}
                outputs = [o.clone() if isinstance(o, torch.Tensor) and o.untyped_storage().data_ptr() in storages
                           else o for o in outputs]  # the values read, not the storage about to change
                with torch.no_grad():
                    for variable, kind, value, scale in fn.assignments:
                        _assign_torch(torch, backend, variable, kind, _value_of(value, env), scale)
        return outputs

    if compile:
        return torch.compile(run)
    return run


def _assign_torch(torch, backend, variable, kind, value, scale):
    """Apply one update (under ``torch.no_grad``): in place, as a fused ``add_``/``sub_`` with the scale."""
    if value.__class__ is not torch.Tensor and isinstance(value, torch.Tensor):
        value = value.detach()  # another variable
    if isinstance(value, torch.Tensor) and value.dtype is variable.dtype and value.shape == variable.shape:
        if kind == "add":
            variable.add_(value, alpha=1 if scale is None else scale)
        elif kind == "sub":
            variable.sub_(value, alpha=1 if scale is None else scale)
        else:
            variable.copy_(value)  # the common case, without K.update's conversions
    else:
        backend.update(variable, _combined(kind, variable.detach(), value, scale))


# ---------------------------------------------------------------------------------------------------
# JAX: a pure function of (variable values, inputs) under jax.jit; gradients by jax.grad


def _jax_runner(fn, jit):
    import jax
    import jax.numpy as jnp

    backend = fn.backend
    convert = _converter(fn)
    variables = fn.variables
    grads = Gradients(fn.nodes)
    program = compile_program(fn.nodes, backend, early=fn.early)
    early_variables = [v for v in variables if any(n.kwargs["x"] is v for n in fn.nodes if id(n) in fn.early)]
    loss_programs = {}
    feed_order = []

    def loss_program(loss, skip=None):
        key = (id(loss), id(skip))
        if key not in loss_programs:
            loss_programs[key] = compile_program([n for n in grads.loss_nodes(loss) if n is not skip], backend)
        return loss_programs[key]

    def pure(variable_values, feed_values):
        substitute = {id(v): value for v, value in zip(variables, variable_values)}
        env = {key: value for key, value in zip(feed_order, feed_values)}
        feed_keys = set(env)
        env[_SUBSTITUTE] = substitute  # each (nested) replay carries its own variable values

        def differentiate(loss, targets, values, env_now):
            """jax.grad of sum(loss) with respect to ``targets`` (fed values or variables), at ``values``,
            everything else as in ``env_now`` (so a gradient of a gradient differentiates through it)."""

            def loss_of(values):
                local_env = {k: v for k, v in env_now.items() if k in feed_keys}
                local_sub = local_env[_SUBSTITUTE] = dict(env_now[_SUBSTITUTE])
                skip = None
                for target, value in zip(targets, values):
                    if is_symbolic(target):
                        local_env[id(target)] = value
                        skip = target.node  # an intermediate target: its value is fed, not computed
                    else:
                        local_sub[id(target)] = value
                replay(loss_program(loss, skip), local_env, gradient, local_sub)
                return jnp.sum(local_env[id(loss)])

            return jax.grad(loss_of)(values)

        def gradient(node, env_now):
            loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
            sub = env_now[_SUBSTITUTE]
            current = env_now[id(wrt)] if is_symbolic(wrt) else sub[id(wrt)]
            if not jnp.issubdtype(jnp.result_type(current), jnp.inexact):
                return jnp.zeros_like(current)
            if is_symbolic(wrt) and wrt.node is not None:  # intermediate: its own pass, its producer skipped
                return differentiate(loss, [wrt], [current], env_now)[0]
            key = ("grads", id(loss))
            found = env_now.get(key)
            if found is None:  # every fed or variable target of this loss in one jax.grad
                leaves = [t for t in grads.targets(loss) if not (is_symbolic(t) and t.node is not None)]
                values = [env_now[id(t)] if is_symbolic(t) else sub[id(t)] for t in leaves]
                pairs = [(t, v) for t, v in zip(leaves, values) if jnp.issubdtype(jnp.result_type(v), jnp.inexact)]
                results = differentiate(loss, [t for t, _ in pairs], [v for _, v in pairs], env_now) if pairs else []
                found = env_now[key] = {id(t): g for (t, _), g in zip(pairs, results)}
            return found[id(wrt)]

        def apply(variable, value, substitute_now):
            current = substitute_now[id(variable)]
            value = jnp.broadcast_to(jnp.asarray(value, dtype=current.dtype), current.shape)
            substitute_now[id(variable)] = value
            return value

        gradient.apply = apply
        replay(program, env, gradient, substitute)
        outputs = [substitute.get(id(o), o) for o in _outputs(fn, env)]  # variables: their value now
        new_values = [_combined(kind, substitute[id(variable)], substitute.get(id(value), _value_of(value, env)),
                                scale) for variable, kind, value, scale in fn.assignments]
        return outputs, new_values + [substitute[id(v)] for v in early_variables]

    compiled = jax.jit(pure) if jit else pure
    # A graph where a computed tensor decides a shape (Keras's confusion-matrix metrics tile by
    # ``K.stack([1, K.size(y_pred)])``) cannot be traced by jax.jit, which needs every shape static;
    # such a function is replayed op by op instead, from its first call on.
    untraceable = (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                   jax.errors.TracerIntegerConversionError)

    def run(feeds):
        nonlocal compiled
        # Traced with x64 on, so float64/int64 values stay 64-bit inside the graph (the ops fix their
        # own output dtypes, so float32 graphs are unchanged); the user's JAX setting is not touched.
        with jax.enable_x64(True):
            converted = convert(feeds)
            feed_order[:] = list(converted)
            values = [_jax_value(v) for v in variables]
            fed = [jnp.asarray(v, dtype=jnp.uint32) if isinstance(v, int) else v for v in converted.values()]
            try:
                outputs, new_values = compiled(values, fed)
            except untraceable:
                if compiled is pure:
                    raise
                compiled = pure
                outputs, new_values = compiled(values, fed)
        targets = [a[0] for a in fn.assignments] + early_variables
        for variable, value in zip(targets, new_values):
            _assign_jax(variable, value, backend)
        return outputs

    return run


_SUBSTITUTE = ("substitute",)  # key of the variable values in a JAX replay's environment


def _jax_value(variable):
    return variable.value if hasattr(variable, "value") else variable


def _assign_jax(variable, value, backend):
    """Store an update computed by the compiled function; it already has the variable's dtype and
    shape unless the graph broadcast or cast it, which ``K.update`` then does."""
    current = getattr(variable, "value", None)
    if current is not None and value.dtype == current.dtype and value.shape == current.shape:
        variable.value = value
    else:
        backend.update(variable, value)


# ---------------------------------------------------------------------------------------------------
# TensorFlow: the replay traced by tf.function; gradients from a GradientTape around it


def _tensorflow_runner(fn, jit):
    import tensorflow as tf

    backend = fn.backend
    convert = _converter(fn)
    grads = Gradients(fn.nodes)
    fed_targets = grads.target_ids(_feed_targets)
    program = compile_program(fn.nodes, backend, watch=grads.target_ids(_intermediate_targets), early=fn.early)
    higher_order = grads.nested()
    variable_types = tuple(getattr(backend.module, "VARIABLE_TYPES", ()))
    feed_order = []

    def inner(*feed_values):
        env = dict(zip(feed_order, feed_values))
        tape = tf.GradientTape(persistent=len(grads.by_loss) > 1 or higher_order) if grads else None

        def gradient(node, env):
            loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
            key = ("grads", id(loss))
            found = env.get(key)
            if found is None:
                targets = [t for t in grads.targets(loss) if not is_symbolic(t) or id(t) in env]
                # A gradient that another loss is computed from stays on the tape (second order).
                with contextlib.nullcontext() if higher_order else tape.stop_recording():
                    results = tape.gradient(env[id(loss)], [_value_of(t, env) for t in targets])
                found = env[key] = {id(t): g for t, g in zip(targets, results) if g is not None}
            grad = found.get(id(wrt))
            return tf.zeros_like(_value_of(wrt, env)) if grad is None else tf.convert_to_tensor(grad)

        def watch(value):
            tape.watch(value)
            return value

        def apply(variable, value, substitute):
            backend.update(variable, value)
            return variable.read_value()

        gradient.watch = watch
        gradient.apply = apply
        with (tape if tape is not None else contextlib.nullcontext()):
            if tape is not None:
                for key in fed_targets:
                    if env[key].dtype.is_floating:
                        tape.watch(env[key])
                for variable in fn.variables:
                    if variable.dtype.is_floating:  # not Keras's int64 step counter
                        tape.watch(variable)
            replay(program, env, gradient)
        # Variables among the outputs are read here; tf.function orders the reads before the updates.
        outputs = [tf.identity(o) if o.__class__ in variable_types else o for o in _outputs(fn, env)]
        for variable, kind, value, scale in fn.assignments:
            value = _value_of(value, env)
            getattr(backend, _UPDATE_OPS[kind])(variable, value if scale is None else value * scale)
        return outputs

    # No autograph: the replay is plain Python over recorded nodes, as a Keras 2 graph was.
    compiled = tf.function(inner, reduce_retracing=True, autograph=False) if jit else inner

    def run(feeds):
        converted = convert(feeds)
        feed_order[:] = list(converted)
        return compiled(*[tf.constant(v, tf.int64) if isinstance(v, int) else v for v in converted.values()])

    return run


# ---------------------------------------------------------------------------------------------------
# PyTensor: the replay traced into one graph, compiled by one pytensor.function; gradients by
# pytensor.grad; updates passed as its ``updates``


def _pytensor_runner(fn):
    import pytensor
    import pytensor.tensor as pt

    engine = fn.backend.module  # the backend package: its graph helpers and compile modes
    cast, is_graph, to_pt, tracing, weak_operands = (engine.as_type, engine.is_graph, engine.to_pt, engine.tracing,
                                                     engine.weak_operands)
    from ..dtypes import numpy_dtype

    backend = fn.backend
    feed = backend.module.feed
    grads = Gradients(fn.nodes)
    streams = fn.seed_streams
    fed = list(fn.inputs) + list(fn.defaults)
    env = {}
    inputs = []
    for tensor in fed:
        if id(tensor) not in env:
            variable = pt.tensor(name=tensor.name, dtype=str(np.dtype(numpy_dtype(tensor.dtype))), shape=tensor.shape)
            env[id(tensor)] = variable
            inputs.append(variable)
    for stream in streams:
        env[id(stream)] = pt.scalar(dtype="int64")
        inputs.append(env[id(stream)])

    def gradient(node, env):
        loss, wrt = node.kwargs["loss"], node.kwargs["wrt"]
        key = ("grads", id(loss))
        found = env.get(key)
        if found is None:  # every target of this loss from one pytensor.grad
            cost = env[id(loss)]
            cost = pt.sum(cost) if cost.ndim else cost
            targets = [t for t in grads.targets(loss) if not is_symbolic(t) or id(t) in env]
            values = [_value_of(t, env) for t in targets]
            floats = [(t, v) for t, v in zip(targets, values) if is_graph(v) and v.dtype.startswith("float")]
            results = pytensor.grad(cost, [v for _, v in floats], disconnected_inputs="ignore",
                                    return_disconnected="zero") if floats else []
            found = env[key] = {id(t): g for (t, _), g in zip(floats, results)}
        target = to_pt(_value_of(wrt, env))
        grad = found.get(id(wrt))
        return pt.zeros_like(target) if grad is None else cast(grad, target.dtype)

    early = getattr(fn, "early", frozenset())
    updates = []
    applied = {}  # id(variable) → its new value, for the nodes after an update they wait for

    def lookup(value):
        return env[id(value)] if value.__class__ in _FED else applied.get(id(value), value)

    with tracing(), symbolic.suspended():
        for node in fn.nodes:
            if node.fn == GRADIENT:
                env[id(node.outputs)] = gradient(node, env)
                continue
            args = [_map(lookup, a) for a in node.kwargs.values()]
            if node.fn in UPDATE_KINDS:
                value = _UPDATED_VALUE[node.fn](*weak_operands([to_pt(a) if not isinstance(a, (int, float)) else a
                                                                for a in args]))
                if id(node) in early:  # K.control_dependencies: what follows reads the new value
                    variable = node.kwargs["x"]
                    value = variable.type.filter_variable(cast(to_pt(value), variable.dtype), allow_convert=True)
                    updates.append((variable, value))
                    applied[id(variable)] = value
            elif isinstance(node.fn, str):
                value = getattr(backend, node.fn)(*args)
            elif isinstance(node.fn, (type(operator.add), type(len))) or node.fn is operator.getitem:
                value = node.fn(*(weak_operands(args) if node.fn is not operator.getitem else args))
            else:  # a loop over an unknown length: its body replays here, traced into pytensor.scan
                value = node.fn(*args)
            _bind_cast(node.outputs, value, env, cast, to_pt)

        outputs = _outputs(fn, env)
        for variable, kind, value, scale in fn.assignments:
            amount = to_pt(_value_of(value, env))
            if scale is not None:  # the learning rate in the amount's dtype, not PyTensor's float64
                amount, scale = weak_operands([amount, scale])
            new = _combined(kind, variable, amount, scale)
            updates.append((variable, variable.type.filter_variable(cast(to_pt(new), variable.dtype),
                                                                    allow_convert=True)))
    graph_outputs = [(i, o) for i, o in enumerate(outputs) if is_graph(o)]
    try:
        from pytensor.graph.traversal import ancestors
    except ImportError:  # PyTensor before 2.32
        from pytensor.graph.basic import ancestors
    half = any(getattr(v, "dtype", None) == "float16"
               for v in ancestors([o for _, o in graph_outputs] + [u for _, u in updates]))
    mode = engine.HALF_FUNCTION_MODE if half else engine.FUNCTION_MODE
    compiled = pytensor.function(inputs, [o for _, o in graph_outputs], updates=updates, mode=mode,
                                 on_unused_input="ignore", accept_inplace=True)

    def run(feeds):
        values = {id(tensor): value for tensor, value in feeds}
        arguments = [feed(values[id(t)], t.dtype) for t in fed]
        arguments += [np.int64(stream.next()) for stream in streams]
        results = compiled(*arguments)
        final = list(outputs)
        for (i, _), value in zip(graph_outputs, results):
            final[i] = value
        return final

    run.compiled = compiled  # the pytensor.function, for inspection (pytensor.dprint)
    return run


def _bind_cast(outputs, value, env, cast, to_pt):
    """Store a node's result under its output tensors, cast to the dtypes the graph recorded (the
    reference's), so PyTensor's own promotion rules never leak into a result."""
    from ..dtypes import numpy_dtype

    if isinstance(outputs, SymbolicTensor):
        if not isinstance(value, (int, float, bool)) and value is not None:
            value = to_pt(value)
            dtype = str(np.dtype(numpy_dtype(outputs.dtype))) if outputs.dtype != "bfloat16" else value.dtype
            value = cast(value, dtype)
        env[id(outputs)] = value
    elif isinstance(outputs, (list, tuple)):
        for o, v in zip(outputs, value):
            _bind_cast(o, v, env, cast, to_pt)
