"""``K.function`` and ``K.gradients``: turn a recorded graph into a callable, compiled per engine.

The graph is compiled once into a program (:func:`compile_program`: each node's backend function
resolved, its constant arguments in place) that :func:`replay` runs in topological order.  Each
engine wraps that replay its own way (see :mod:`.runners` and ``backends/<engine>/runner.py``): NumPy and PyTorch replay eagerly
(``compile=True`` asks torch for ``torch.compile``), JAX traces it under ``jax.jit`` with variable
values passed in as arguments, and TensorFlow traces it under ``tf.function``.  Gradients come from
the engine's own autodiff (torch.autograd, jax.grad, tf.GradientTape); on NumPy from the per-op
rules in :mod:`.vjp`.  Variable updates are computed with the outputs and assigned after them, as
Keras 2 did.
"""

import numbers
import operator

import numpy as np

from .. import config
from .._dispatch import active_backend, symbolic
from ..dtypes import canonical_dtype
from .node import Node, SymbolicTensor, is_symbolic, leaves, symbolic_learning_phase, unique_name
from .program import GRADIENT, UPDATE_KINDS, early_updates, placeholders_of, seed_streams, topological
from .runners import make_runner


def gradients(loss, variables):
    """Return the gradients of the scalar ``loss`` with respect to each of ``variables`` (symbolic).

    ``variables`` may be variables, placeholders or intermediate tensors; evaluate the result with
    :func:`function` (or ``K.eval`` when no placeholder is involved).

    Args:
        loss: The scalar tensor to differentiate.
        variables: The variables (or tensors) to differentiate with respect to.

    Raises:
        TypeError: ``loss`` is not a symbolic tensor built from placeholders and K ops.

    >>> import kbackend as K
    >>> w = K.variable([1.0, 2.0]); x = K.placeholder((2,))
    >>> g, = K.gradients(K.sum(x * w * w), [w])
    >>> K.function([x], [g])([[1.0, 1.0]])[0]
    array([2., 4.], dtype=float32)
    """
    if not is_symbolic(loss):
        raise TypeError(
            f"gradients: argument `loss` got {type(loss).__name__}; expected a symbolic tensor built from "
            "K.placeholder / K ops (eager values carry no graph)"
        )
    symbolic.build_here()  # as a Keras 2 optimizer's get_updates expects, its updates that follow record
    single = not isinstance(variables, (list, tuple))
    wrt = [variables] if single else list(variables)
    backend = active_backend()
    grads = []
    for target in wrt:
        if is_symbolic(target):
            shape, dtype = target.shape, target.dtype
        elif backend.is_variable(target) or backend.is_tensor(target):
            shape, dtype = tuple(backend.int_shape(target)), backend.dtype(target)
        else:
            raise TypeError(f"gradients: argument `variables` got {type(target).__name__}; expected tensors or variables")
        node = Node(GRADIENT, {"loss": loss, "wrt": target}, backend, unique_name("Gradient"))
        node.outputs = SymbolicTensor(shape, dtype, node, (), node.name + ":0")
        grads.append(node.outputs)
    return grads[0] if single else grads


# ---------------------------------------------------------------------------------------------------
# the function object


_FUNCTION_OPTIONS = {"name", "compile", "jit"}


class Function:
    """A compiled graph: call it with a list of input values, get a list of NumPy outputs."""

    def __init__(self, inputs, outputs, updates=None, name=None, **options):
        invalid = set(options) - _FUNCTION_OPTIONS
        if invalid:
            raise ValueError(
                f"function: invalid argument(s) {', '.join(sorted(invalid))} passed to K.function; "
                f"expected only {', '.join(sorted(_FUNCTION_OPTIONS))}"
            )
        self.backend = active_backend()
        self.backend.load()
        self.name = name
        self.single_output = not isinstance(outputs, (list, tuple))
        self.outputs = [outputs] if self.single_output else list(outputs)
        self.inputs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        for i, tensor in enumerate(self.inputs):
            if not is_symbolic(tensor) or tensor.node is not None:
                raise TypeError(
                    f"function: argument `inputs` got {type(tensor).__name__} at position {i}; "
                    "expected placeholders (K.placeholder)"
                )
        # An update op listed twice runs once, as a TensorFlow op fetched twice (a Keras 2 model called
        # on a new input lists its inner model's updates once per node that owns them).
        unique = list({id(u): u for u in updates or []}.values())
        self.updates = [self._update(u) for u in unique]
        # Updates that other nodes wait for (K.control_dependencies) are applied where they stand in
        # the program, so what is computed after them reads the new values; the rest are applied
        # after the outputs are read.
        self.early = early_updates(topological([o for o in self.outputs if is_symbolic(o)]
                                               + [t for _, t in self.updates]))
        applied = [t for _, t in self.updates if id(t.node) in self.early]
        self.updates = [(v, t) for v, t in self.updates if id(t.node) not in self.early]
        self.assignments = self._assignments()
        roots = ([o for o in self.outputs if is_symbolic(o)] + applied
                 + [a[2] for a in self.assignments if is_symbolic(a[2])])
        self.nodes = topological(roots)
        needed = placeholders_of(self.nodes, roots)
        fed = {id(t) for t in self.inputs}
        self.defaults = [t for t in needed if id(t) not in fed and t.default is not None]
        missing = [t for t in needed if id(t) not in fed and t.default is None]
        if missing:
            raise ValueError(
                f"function: the outputs depend on placeholder(s) {', '.join(t.name for t in missing)} "
                "that are not among `inputs`"
            )
        self.variables = _variables_of(self.nodes, self.backend)
        for variable, _, value, _ in self.assignments:  # the updated ones, and amounts that are variables
            for candidate in (variable, value):
                if all(candidate is not v for v in self.variables) and _is_variable(self.backend, candidate):
                    self.variables.append(candidate)
        # An output that is a variable or a constant, or may be a view of one, is returned as a copy:
        # writing into it must not change the variable (nor what the next call returns).
        self.shared_outputs = [i for i, o in enumerate(self.outputs) if _may_share_storage(o)]
        self.seed_streams = seed_streams(self.nodes)
        self.runner = make_runner(self, **{k: v for k, v in options.items() if k in ("compile", "jit")})

    def _assignments(self):
        """How each update is applied: ``(variable, "assign", new value, None)``, or ``(variable, "add"
        or "sub", amount, scale)`` when the new value is the variable plus or minus ``scale * amount``
        (scale None: 1), as in an SGD step or a counter.  The engines then apply it in place instead of
        building the new value and copying it.  A variable updated twice is assigned twice, each new
        value computed from the old one."""
        counts = {}
        for variable, _ in self.updates:
            counts[id(variable)] = counts.get(id(variable), 0) + 1
        plan = []
        for variable, tensor in self.updates:
            node = tensor.node
            kind, value = "assign", tensor
            if counts[id(variable)] == 1:
                if node.fn == "update_add":
                    kind, value = "add", node.kwargs["increment"]
                elif node.fn == "update_sub":
                    kind, value = "sub", node.kwargs["decrement"]
                elif node.fn == "update":
                    kind, value = _step_of(variable, node.kwargs["new_x"])
            scale = None
            if kind != "assign":
                value, scale = _scaled(value)
            plan.append((variable, kind, value, scale))
        return plan

    def _update(self, update):
        if isinstance(update, (tuple, list)) and len(update) == 2:
            variable, value = update
            node = Node("update", {"x": variable, "new_x": value}, self.backend, unique_name("Assign"))
            node.outputs = SymbolicTensor(tuple(self.backend.int_shape(variable)), self.backend.dtype(variable),
                                          node, (), node.name + ":0")
            return variable, node.outputs
        if is_symbolic(update) and update.node is not None and update.node.fn in UPDATE_KINDS:
            return update.node.kwargs["x"], update
        raise TypeError(
            f"function: argument `updates` got {update!r}; expected (variable, new value) pairs or "
            "K.update / K.update_add / K.update_sub / K.moving_average_update results"
        )

    def feed_values(self, values):
        if not isinstance(values, (list, tuple)):
            if len(self.inputs) == 1:
                values = [values]
            else:
                raise TypeError(
                    f"function: expected a list of {len(self.inputs)} input values, got {type(values).__name__}"
                )
        if len(values) != len(self.inputs):
            raise ValueError(f"function: expected {len(self.inputs)} input values, got {len(values)}")
        feeds = list(zip(self.inputs, values))
        for tensor, value in feeds:
            shape = getattr(value, "shape", None)
            if shape is not None and tensor.shape and not _fits(shape, tensor.shape):
                raise ValueError(
                    f"function: input {tensor.name} of shape {tensor.shape} got a value of shape {tuple(shape)}"
                )
        phase = config.fixed_learning_phase()
        for tensor in self.defaults:
            feeds.append((tensor, tensor.default if phase is None else phase))
        return feeds

    def __call__(self, inputs):
        feeds = self.feed_values(inputs)
        outputs = self.runner(feeds)
        results = [np.asarray(self.backend.eval(o)) if not isinstance(o, (int, float, bool)) else o
                   for o in outputs]
        # Inputs are fed without copying; an output must never be (a view of) the caller's array.
        arrays = [value for _, value in feeds if value.__class__ is np.ndarray]
        if arrays:
            results = [r.copy() if r.__class__ is np.ndarray and any(np.may_share_memory(r, a) for a in arrays)
                       else r for r in results]
        for i in self.shared_outputs:
            if results[i].__class__ is np.ndarray:
                results[i] = results[i].copy()
        return results[0] if self.single_output else results


def _step_of(variable, new):
    """``("sub", e)`` for ``new = variable - e``, ``("add", e)`` for ``variable + e`` or ``e + variable``,
    else ``("assign", new)``."""
    node = new.node if is_symbolic(new) else None
    if node is not None and node.fn in (operator.add, operator.sub):
        first, second = node.kwargs["arg0"], node.kwargs["arg1"]
        if first is variable:
            return ("add" if node.fn is operator.add else "sub"), second
        if second is variable and node.fn is operator.add:
            return "add", first
    return "assign", new


def _scaled(amount):
    """``(g, c)`` for an amount ``c * g`` or ``g * c`` with a Python number ``c`` (a learning rate),
    which engines with a fused multiply-add apply in one pass; else ``(amount, None)``."""
    node = amount.node if is_symbolic(amount) else None
    if node is not None and node.fn is operator.mul:
        first, second = node.kwargs["arg0"], node.kwargs["arg1"]
        for scale, tensor in ((first, second), (second, first)):
            if scale.__class__ in (int, float) and is_symbolic(tensor):
                return tensor, scale
    return amount, None


def _fits(shape, expected):
    if len(shape) != len(expected):
        return False
    for d, e in zip(shape, expected):
        if e is not None and e != d:
            return False
    return True


#: Ops whose NumPy or PyTorch result may be their input itself or a view of it.
_MAY_RETURN_A_VIEW = frozenset(
    """identity stop_gradient reshape transpose permute_dimensions squeeze expand_dims slice reverse cast switch
    print_tensor""".split()
) | {operator.getitem, operator.pos}


def _may_share_storage(output):
    """True when ``output`` may not be computed afresh by each call: a variable or a constant, or a
    view of one through ops that may return views."""
    stack, seen = [output], set()
    while stack:
        value = stack.pop()
        if not is_symbolic(value):
            if not isinstance(value, (numbers.Number, str, bytes, type(None))):
                return True
            continue
        node = value.node
        if node is None or id(node) in seen or node.fn not in _MAY_RETURN_A_VIEW:
            continue
        seen.add(id(node))
        stack.extend(leaves(node.kwargs))
    return False


def _variables_of(nodes, backend):
    found = {}
    for node in nodes:
        for value in leaves(node.kwargs):
            if not is_symbolic(value) and value is not None and not isinstance(
                    value, (int, float, bool, str, np.ndarray)) and _is_variable(backend, value):
                found[id(value)] = value
        if node.fn == GRADIENT and not is_symbolic(node.kwargs["wrt"]):
            found[id(node.kwargs["wrt"])] = node.kwargs["wrt"]
    return list(found.values())


def _is_variable(backend, value):
    try:
        return bool(backend.is_variable(value))
    except Exception:  # noqa: BLE001 - callables and other non-tensors
        return False


def function(inputs, outputs, updates=None, **kwargs):
    """Return a callable that evaluates ``outputs`` from values fed to the placeholders ``inputs``.

    ``updates`` is a list of ``(variable, new_value)`` pairs or ``K.update*`` results, applied after the
    outputs are computed on each call.  The callable takes a list of NumPy (or engine) values and
    returns a list of NumPy arrays.  ``K.learning_phase()`` may be one of the inputs (fed 0 or 1);
    otherwise it is 0 unless set with ``K.set_learning_phase``.  Keyword ``compile=True`` asks
    PyTorch for ``torch.compile``; ``jit=False`` replays without ``jax.jit`` / ``tf.function``.

    Args:
        inputs: The placeholders fed on each call (a list).
        outputs: The tensors computed on each call (a list, or one tensor).
        updates: Update operations (``K.update*`` results or ``(variable, value)`` pairs) applied on each call.
        **kwargs: ``compile``, ``jit`` and ``name`` (see above).

    Raises:
        TypeError: ``inputs`` holds something other than placeholders.
        ValueError: a keyword other than ``compile``, ``jit`` or ``name`` is given.

    >>> import kbackend as K
    >>> x = K.placeholder((None, 2))
    >>> f = K.function([x], [K.sum(x, axis=1)])
    >>> f([[[1.0, 2.0], [3.0, 4.0]]])[0]
    array([3., 7.], dtype=float32)
    """
    return Function(inputs, outputs, updates, **kwargs)


def evaluate(tensor):
    """``K.eval`` of a symbolic tensor: allowed when it depends on no placeholder without a default.
    An update op (``K.update_add(v, 1)`` recorded in graph mode) is applied, and its new value returned."""
    if tensor.node is not None and tensor.node.fn in UPDATE_KINDS:
        return Function([], [tensor], updates=[tensor])([])[0]
    return Function([], [tensor])([])[0]

