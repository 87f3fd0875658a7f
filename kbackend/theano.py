"""Keras 2.3.1 loads this module with ``KERAS_BACKEND=kbackend.theano``: the K namespace on pytensor,
Theano's maintained successor, under the name Keras 2 configurations know."""

from .keras2 import backend_namespace as _namespace

globals().update(_namespace("pytensor"))
