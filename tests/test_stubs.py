"""The public face as editors and type checkers see it: ``kbackend/__init__.pyi`` binds every public
name statically, with the declared signature, and is kept equal to what the declarations give."""

import ast
import inspect
import pathlib

import kbackend as K
import kbackend._stubs as stubs

PACKAGE = pathlib.Path(K.__file__).parent


def test_stub_is_written_from_the_declarations():
    assert (PACKAGE / "__init__.pyi").read_text() == stubs.render(), (
        "kbackend/__init__.pyi is stale: python -c \"import kbackend._stubs as s; s.write()\"")
    assert (PACKAGE / "py.typed").exists()


def test_every_public_name_is_bound_in_the_stub_with_its_parameters():
    tree = ast.parse((PACKAGE / "__init__.pyi").read_text())
    stubbed = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert set(K.__all__) <= set(stubbed)
    for name in K.__all__:
        target = getattr(K, name)
        expected = list(inspect.signature(getattr(target, "__wrapped__", target)).parameters)
        arguments = stubbed[name].args
        got = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
        got += [a.arg for a in (arguments.vararg, arguments.kwarg) if a is not None]
        assert sorted(got) == sorted(expected), name
