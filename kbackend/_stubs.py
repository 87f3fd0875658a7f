"""The type stub of the package face, ``kbackend/__init__.pyi``, written from the declarations.

Most public names are bound when the ops are declared, which editors and type checkers cannot see;
the stub binds every one of them statically, with its Keras 2 signature and types read from the
parameter names (the same names the dispatcher canonicalises by).  ``tests/test_stubs.py`` keeps the
file equal to :func:`render`; after changing a declaration, write it again with
``python -c "import kbackend._stubs as s; s.write()"``.
"""

import inspect
import os

#: Parameter name → its type in the stub (anything else is ``Any``).
PARAMETER_TYPES = {
    "axis": "Axis", "axes": "Axis", "reduction_axes": "Axis",
    "dtype": "Optional[str]", "name": "Optional[str]", "data_format": "Optional[str]",
    "padding": "str", "pool_mode": "str", "interpolation": "str", "message": "str",
    "strides": "IntOrInts", "dilation_rate": "IntOrInts", "pool_size": "IntOrInts", "kernel_size": "IntOrInts",
    "shape": "Optional[Shape]", "noise_shape": "Optional[Shape]", "output_shape": "Shape", "pattern": "Sequence[int]",
    "keepdims": "bool", "from_logits": "bool", "go_backwards": "bool", "unroll": "bool", "greedy": "bool",
    "merge_repeated": "bool",
    "seed": "Optional[int]", "k": "int", "rep": "int", "num_classes": "int", "beam_width": "int",
    "top_paths": "int", "depth_factor": "int", "height_factor": "int", "width_factor": "int",
    "fn": "Callable[..., Any]", "step_function": "Callable[..., Any]",
    "alt": "Any", "then_expression": "Any", "else_expression": "Any",
    "tensors": "Sequence[TensorLike]", "initial_states": "Sequence[TensorLike]",
    "ops": "Sequence[TensorLike]", "tuples": "Sequence[Tuple[Any, Any]]",
}

#: Parameters that hold tensors (or anything the engines turn into one).
TENSOR_TYPE = "TensorLike"

HEADER = '''"""Type stub of kbackend's public face (written by kbackend._stubs from the declarations)."""

from typing import Any, Callable, ContextManager, Optional, Sequence, Tuple, Union

#: An engine tensor, a variable, a symbolic tensor, a NumPy array or a Python number.
TensorLike = Any
Axis = Union[int, Sequence[int], None]
IntOrInts = Union[int, Sequence[int]]
Shape = Sequence[Optional[int]]

__version__: str
__all__: list
'''


def _annotation(parameter, tensor_params):
    if parameter.name in PARAMETER_TYPES:
        return PARAMETER_TYPES[parameter.name]
    if parameter.name in tensor_params:
        return TENSOR_TYPE
    return "Any"


def _stub(name, signature, tensor_params, returns):
    parts, keyword_only = [], False
    for parameter in signature.parameters.values():
        text = parameter.name
        if parameter.kind is parameter.VAR_POSITIONAL:
            parts.append(f"*{text}: Any")
            keyword_only = True
            continue
        if parameter.kind is parameter.VAR_KEYWORD:
            parts.append(f"**{text}: Any")
            continue
        if parameter.kind is parameter.KEYWORD_ONLY and not keyword_only:
            parts.append("*")
            keyword_only = True
        text += f": {_annotation(parameter, tensor_params)}"
        if parameter.default is not parameter.empty:
            text += " = ..."
        parts.append(text)
    return f"def {name}({', '.join(parts)}) -> {returns}: ..."


#: Return types of the public names that are not ops.
RETURNS = {
    "epsilon": "float", "floatx": "str", "image_data_format": "str", "normalize_data_format": "str",
    "backend": "str", "get_uid": "int", "image_dim_ordering": "str", "cast_to_floatx": "Any",
    "learning_phase": "Any", "placeholder": "TensorLike", "function": "Callable[..., list]",
    "gradients": "Any", "name_scope": "ContextManager[str]", "control_dependencies": "ContextManager[None]",
    "backend_scope": "ContextManager[Any]", "learning_phase_scope": "ContextManager[None]",
    "symbolic": "Callable[..., Any]", "eager": "Callable[..., Any]", "get_variable_shape": "Tuple[int, ...]",
    "is_sparse": "bool", "is_variable": "bool", "is_tensor": "bool", "is_keras_tensor": "bool",
    "is_placeholder": "bool", "int_shape": "Tuple[Optional[int], ...]", "ndim": "int", "dtype": "str",
    "count_params": "int", "eval": "Any", "get_value": "Any", "batch_get_value": "list", "set_value": "None",
    "batch_set_value": "None", "rnn": "Tuple[TensorLike, TensorLike, list]",
}


def render():
    """The text of ``__init__.pyi`` for the names ``kbackend.__all__`` holds now."""
    import kbackend
    from kbackend._dispatch import OPS

    lines = [HEADER]
    for name in kbackend.__all__:
        spec = OPS.get(name)
        if spec is not None:
            lines.append(_stub(name, spec.signature, spec.tensor_params, RETURNS.get(name, TENSOR_TYPE)))
            continue
        target = getattr(kbackend, name)
        signature = inspect.signature(getattr(target, "__wrapped__", target))
        lines.append(_stub(name, signature, ("x", "tensor", "loss", "variables", "inputs", "outputs"),
                           RETURNS.get(name, "None" if name.startswith(("set_", "reset_")) else "Any")))
    return "\n".join(lines) + "\n"


def path():
    return os.path.join(os.path.dirname(os.path.abspath(__file__)), "__init__.pyi")


def write():
    with open(path(), "w") as stub:
        stub.write(render())
