"""The JAX backend: ``jax.numpy``/``jax.lax`` implementations of the op declarations.

64-bit dtypes.  JAX demotes float64/int64 to 32 bits unless ``jax_enable_x64`` is set, and setting it
globally would change every other JAX computation in the user's process.  Instead each op runs inside
JAX's scoped ``jax.enable_x64(True)`` context only when one of its arguments is 64-bit (an array,
variable or dtype name such as ``'float64'``) or when its result is 64-bit by definition (argmax →
int64).  Arrays created in the scope keep their dtype afterwards, so float64 stays float64 from op to
op; a float32 call never enters the scope and pays only the dtype check (about 0.1 µs per argument).
Entering the scope costs about 1 µs plus 1–2 µs of slower JAX dispatch inside it, paid by 64-bit
calls only.  Composite ops (bodies written in ``K.*`` calls and Python operators) run in the same
scope, and so do :class:`Variable` operators.  Arithmetic the user writes on a float64 result
*outside* kbackend follows the user's own JAX setting (JAX demotes it unless x64 is on); ``K.*`` ops
never do.

Python floats stay weakly typed (``x * 2.0`` keeps x's dtype); Python lists convert as JAX converts
them (float32 / int32), as ``tf.convert_to_tensor`` did for Keras 2.
"""

from ..._dispatch import OPS, collect
from . import control, conv, math, nn, random, shape, variables
from .variable import Variable, wrap


VARIABLE_TYPES = (Variable,)


def implementations():
    table = collect(variables, math, shape, nn, conv, random, control)
    for name, spec in OPS.items():
        if name not in table and spec.composite:  # so that its Python operators run in the 64-bit scope
            table[name] = spec.reference
    return {name: wrap(fn, OPS[name]) for name, fn in table.items()}


__all__ = ["VARIABLE_TYPES", "Variable", "implementations"]
