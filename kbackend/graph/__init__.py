"""The symbolic layer: placeholders, recorded op nodes, K.function and K.gradients.

Inside the package, imports go one way: ``node`` (symbolic tensors, nodes, the tree walker) →
``program`` (traversal, compiled replay) → ``vjp`` (the gradient-rule registry; ``vjp_conv`` adds the
convolution rules) → ``runners`` (what every engine's runner shares) → ``function`` → ``tensor``
(recording: the dispatcher's symbolic branch) → ``api`` (the public graph-level K functions).
"""

from . import vjp_conv  # noqa: F401  (registers the gradient rules of convolutions, pooling and padding)
from .function import Function, function, gradients
from .node import SymbolicTensor, is_symbolic, symbolic_learning_phase
from .tensor import placeholder

__all__ = ["Function", "SymbolicTensor", "function", "gradients", "is_symbolic", "placeholder",
           "symbolic_learning_phase"]
