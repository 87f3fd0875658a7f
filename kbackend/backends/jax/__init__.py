"""The JAX backend: ``jax.numpy``/``jax.lax`` implementations of the op declarations.

64-bit dtypes.  JAX demotes float64/int64 to 32 bits unless ``jax_enable_x64`` is set, and setting it
globally would change every other JAX computation in the user's process.  Instead an op runs inside
JAX's scoped ``jax.enable_x64(True)`` context only when one of its arguments is 64-bit (an array,
variable, dtype name such as ``'float64'``, or a Python float while ``floatx()`` is float64) or when its
result is 64-bit by definition (argmax → int64).  Arrays made in the scope keep their dtype afterwards,
so float64 stays float64 from op to op.  The check is generated per op when the backend loads: a call
whose tensor arguments are all ``jax.Array`` of at most 32 bits never enters the scope and pays only
for the check; a 64-bit call also pays for entering and leaving the scope and for JAX's slower
dispatch inside it (``benchmarks/overhead.py`` measures both).  Composite ops (bodies written in ``K.*``
calls and Python operators) and :class:`Variable` operators run in the same scope.  Arithmetic written
on a float64 result *outside* kbackend follows the user's own JAX setting (JAX demotes it unless x64
is on); ``K.*`` ops never do.  ``K.function`` traces with ``jax.jit``; its runner must call the jitted
function inside ``jax.enable_x64(True)`` for 64-bit graphs (kbackend's ops pin every dtype, so 32-bit
graphs are unchanged there).

Python floats stay weakly typed (``x * 2.0`` keeps x's dtype); Python numbers and lists passed as
tensors become ``floatx()`` (floats) or int32 (ints), as TensorFlow made them for Keras 2.  Matrix
products and convolutions run at full float32 precision (GPUs would otherwise use TF32) unless JAX's
``jax_default_matmul_precision`` is set.
"""

from ..._dispatch import OPS, collect
from ...ops.namespace import bind, takes_namespace
from . import control, conv, math, nn, random, shape, variables
from .arrays import JAX, Variable, wrap
from .runner import make_runner  # noqa: F401  (how K.function runs on this engine)
from .variables import feed


VARIABLE_TYPES = (Variable,)


def implementations():
    table = collect(variables, math, shape, nn, conv, random, control)
    for name, spec in OPS.items():
        if name in table:
            continue
        if takes_namespace(spec.reference):  # the reference body, on jax.numpy
            table[name] = bind(spec.reference, JAX)
        elif spec.composite:  # so that its Python operators run in the 64-bit scope
            table[name] = spec.reference
    return {name: wrap(fn, OPS[name]) for name, fn in table.items()}


__all__ = ["VARIABLE_TYPES", "Variable", "implementations"]
