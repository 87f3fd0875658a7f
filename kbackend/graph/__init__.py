"""The symbolic layer: placeholders, recorded op nodes, K.function and K.gradients."""

from .function import Function, function, gradients
from .tensor import SymbolicTensor, is_symbolic, placeholder, symbolic_learning_phase

__all__ = ["Function", "SymbolicTensor", "function", "gradients", "is_symbolic", "placeholder",
           "symbolic_learning_phase"]
