"""The import structure: floors that import only downwards, no cycle, no private name across a package.

Every module of ``kbackend`` is read with ``ast`` and each import found at any depth (module level,
inside functions and classes, and ``importlib.import_module("kbackend...")`` with a literal name)
becomes an edge.  The engine modules that ``_dispatch`` loads by a computed name
(``importlib.import_module(f"kbackend.backends.{name}")``) are not edges: loading an engine is
``_dispatch``'s job and the engines stand above it.
"""

import ast
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kbackend"

#: The floors, ground floor first.  A module may import from its own floor (inside its own package,
#: see PACKAGES) or from a floor below; never from one above.
FLOORS = (
    ("dtypes", ("kbackend.dtypes", "kbackend.sparse")),
    ("config", ("kbackend.config",)),
    ("dispatch", ("kbackend._dispatch",)),
    ("ops", ("kbackend.ops",)),
    ("graph", ("kbackend.graph",)),
    ("backends", ("kbackend.backends",)),
    # the package face and what stands on it: the command line, the demo, Keras 2's adapters
    ("face", ("kbackend", "kbackend._names", "kbackend._stubs", "kbackend.__main__", "kbackend.demo",
              "kbackend.keras2", "kbackend.numpy", "kbackend.torch", "kbackend.jax", "kbackend.tensorflow",
              "kbackend.pytensor", "kbackend.theano")),
)

#: Inside the symbolic layer, the same rule between its modules, bottom first.
GRAPH_FLOORS = ("node", "shapes", "program", "vjp", "vjp_conv", "runners", "function", "tensor", "api", "__init__")

#: Modules that are floors of their own although their names start with an underscore.
PUBLIC_FLOORS = {"kbackend._dispatch"}

ADAPTERS = ("kbackend.numpy", "kbackend.torch", "kbackend.jax", "kbackend.tensorflow", "kbackend.pytensor",
            "kbackend.theano")


def module_files():
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = module_files()


def _absolute(module, is_package, level, target):
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def _known(name):
    """The longest prefix of ``name`` that is a kbackend module."""
    parts = name.split(".")
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts) if parts else None


def imports_of(module):
    """``(target module, imported names, line)`` for every kbackend import in ``module``."""
    path = MODULES[module]
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "kbackend" or alias.name.startswith("kbackend."):
                    found.append((_known(alias.name), (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                target = _absolute(module, is_package, node.level, node.module)
            elif node.module and (node.module == "kbackend" or node.module.startswith("kbackend.")):
                target = node.module
            else:
                continue
            plain = []
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:  # `from . import tensor`: an edge to that module
                    found.append((submodule, (), node.lineno))
                else:
                    plain.append(alias.name)
            if plain or not node.names:
                found.append((_known(target), tuple(plain), node.lineno))
        elif isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value.startswith("kbackend"):
                found.append((_known(arg.value), (), node.lineno))
    return [(target, names, line) for target, names, line in found if target and target != module]


def _is_import_module(func):
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or \
        (isinstance(func, ast.Name) and func.id == "import_module")


EDGES = {module: imports_of(module) for module in MODULES}


def floor_of(module):
    for index, (_, prefixes) in enumerate(FLOORS):
        if any(module == p or (p != "kbackend" and module.startswith(p + ".")) for p in prefixes):
            return index
    raise AssertionError(f"{module} is on no floor: add it to FLOORS in tests/test_layers.py")


def package_of(module):
    """kbackend's top-level modules are one package; ops, graph, each engine and each adapter are one."""
    parts = module.split(".")
    if module in ADAPTERS:
        return module
    if len(parts) >= 3 and parts[1] == "backends":
        return ".".join(parts[:3])
    if len(parts) >= 2 and parts[1] in ("ops", "graph", "backends") and (len(parts) > 2 or
                                                                         MODULES[module].name == "__init__.py"):
        return ".".join(parts[:2])
    return "kbackend"


def describe(module, target, line, why):
    return f"{MODULES[module].relative_to(ROOT)}:{line}: {module} -> {target} ({why})"


def test_every_module_is_on_a_floor():
    for module in MODULES:
        floor_of(module)


def test_no_import_cycle():
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []
    counter = [0]
    graph = {m: sorted({t for t, _, _ in EDGES[m]}) for m in MODULES}

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for module in MODULES:
        if module not in index:
            visit(module)
    messages = []
    for component in cycles:
        inside = set(component)
        edges = [describe(m, t, line, "in the cycle") for m in component for t, _, line in EDGES[m] if t in inside]
        messages.append(f"import cycle of {len(component)} modules:\n  " + "\n  ".join(edges))
    assert not messages, "\n".join(messages)


def test_no_upward_import():
    found = []
    for module, edges in EDGES.items():
        for target, _, line in edges:
            below, above = floor_of(module), floor_of(target)
            if above > below:
                found.append(describe(module, target, line, f"floor {FLOORS[below][0]} imports floor "
                                                            f"{FLOORS[above][0]}, which stands above it"))
            elif above == below and FLOORS[below][0] != "face" and package_of(module) != package_of(target):
                found.append(describe(module, target, line, f"{package_of(module)} and {package_of(target)} "
                                                            "share a floor: neither may import the other"))
    assert not found, "upward imports:\n  " + "\n  ".join(found)


def test_graph_modules_import_downwards():
    rank = {f"kbackend.graph.{name}" if name != "__init__" else "kbackend.graph": i
            for i, name in enumerate(GRAPH_FLOORS)}
    missing = [m for m in MODULES if package_of(m) == "kbackend.graph" and m not in rank]
    assert not missing, f"graph modules missing from GRAPH_FLOORS in tests/test_layers.py: {missing}"
    found = [describe(m, t, line, f"{m.rsplit('.', 1)[-1]} stands below {t.rsplit('.', 1)[-1]}")
             for m in rank for t, _, line in EDGES[m] if t in rank and rank[t] > rank[m]]
    assert not found, "upward imports inside kbackend.graph:\n  " + "\n  ".join(found)


def _private(name):
    return name.startswith("_") and not name.startswith("__")


def test_no_private_name_crosses_a_package():
    found = []
    for module, edges in EDGES.items():
        for target, names, line in edges:
            if package_of(module) == package_of(target):
                continue
            inner = target.split(".")[len(package_of(target).split(".")):]
            private_modules = [p for p in inner if _private(p)]
            if private_modules and target not in PUBLIC_FLOORS:
                found.append(describe(module, target, line, f"private module {'.'.join(private_modules)}"))
            for name in names:
                if _private(name):
                    found.append(describe(module, target, line, f"private name {name}"))
    assert not found, "private names imported across packages:\n  " + "\n  ".join(found)


def test_only_the_face_floor_imports_the_face():
    face = floor_of("kbackend")
    found = [describe(m, "kbackend", line, "imports the package face") for m, edges in EDGES.items()
             for t, _, line in edges if t == "kbackend" and floor_of(m) != face]
    assert not found, "\n  ".join(["modules below the face import it:"] + found)


def test_the_walker_sees_imports_at_every_depth():
    # the rules above are only as good as the edges: keras2 imports the face inside a function, the
    # face imports ops at module level, and `from . import x` is an edge to the module x
    assert [t for t, _, _ in EDGES["kbackend.keras2"] if t == "kbackend"]
    assert "kbackend.ops" in {t for t, _, _ in EDGES["kbackend"]}
    assert "kbackend.graph.vjp_conv" in {t for t, _, _ in EDGES["kbackend.graph"]}


ENGINE_MODULES = ("torch", "jax", "jaxlib", "tensorflow", "pytensor", "scipy", "tf_keras", "keras")


#: Imports of those modules that are libraries rather than engines: the sparse tensors of the engines
#: without their own are SciPy's matrices (kbackend/sparse.py imports it only when joining them).
LIBRARIES = {("kbackend.sparse", "scipy.sparse")}


def test_no_engine_below_the_backends():
    """Only backends/<engine>/ (and the face's Keras 2 adapters) import an engine, at any depth."""
    engines = floor_of("kbackend.backends")
    found = []
    for module, path in MODULES.items():
        if floor_of(module) >= engines:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level and node.module else []
            found += [describe(module, name, node.lineno, "an engine below the backends")
                      for name in names if name.split(".")[0] in ENGINE_MODULES and (module, name) not in LIBRARIES]
    assert not found, "\n  ".join(["engine imports below backends/:"] + found)


@pytest.mark.parametrize("backend", ["numpy", "torch", "jax", "tensorflow", "pytensor", "theano"])
def test_import_loads_no_engine_and_no_backend_module(backend, tmp_path):
    code = ("import sys, kbackend\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {ENGINE_MODULES!r} "
            "or m.startswith('kbackend.backends.')))\n")
    env = {**os.environ, "KERAS_BACKEND": backend, "KERAS_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"import kbackend with KERAS_BACKEND={backend} loaded {result.stdout}"
