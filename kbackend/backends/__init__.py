"""Engine backends: one package per engine, the same module names inside each.

A backend package exposes ``implementations()`` → {op name: callable}.  Ops it leaves out fall back to
the declaration's body when that body is composite (written in K calls), else raise NotImplementedError.
"""
