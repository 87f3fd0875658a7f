import importlib.util
import os
import pathlib
import re
import tempfile

import pytest

# Tests never read the user's ~/.keras/keras.json: each run gets an empty Keras home.
os.environ["KERAS_HOME"] = tempfile.mkdtemp(prefix="kbackend-test-home-")
os.environ.pop("KERAS_BACKEND", None)

HERE = pathlib.Path(__file__).parent
PACKAGE = HERE.parent / "kbackend"

# Subprocesses (Keras 2.3.1 scripts, the command line, configuration at import) import this checkout's
# kbackend, as the tests themselves do, whatever copy of it is installed.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))

_ENGINE_MODULE = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow", "pytensor": "pytensor"}


def installed_backends():
    """numpy, then every engine that has a backend package here and whose engine is importable.

    ``KBACKEND_TEST_BACKENDS=numpy,torch`` narrows the list.
    """
    names = ["numpy"]
    for name, module in _ENGINE_MODULE.items():
        if (PACKAGE / "backends" / name).is_dir() and importlib.util.find_spec(module) is not None:
            names.append(name)
    wanted = os.environ.get("KBACKEND_TEST_BACKENDS")
    if wanted:
        names = [n for n in names if n in wanted.split(",")]
    return names


BACKENDS = installed_backends()


def _xfails():
    table = {}
    for path in (HERE / "xfails").glob("*.txt"):
        for line in path.read_text().splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            test_id, _, reason = line.partition("#")
            table[test_id.strip()] = reason.strip() or f"known gap ({path.name})"
    return table


def pytest_collection_modifyitems(config, items):
    table = _xfails()
    for item in items:
        reason = table.get(item.nodeid.split("::")[-1]) or table.get(item.nodeid)
        if reason:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))


@pytest.fixture(autouse=True)
def _restore_config():
    """Every test starts from Keras defaults and leaves them so."""
    import kbackend as K

    yield
    K.set_floatx("float32")
    K.set_epsilon(1e-7)
    K.set_image_data_format("channels_last")
    K.config._learning_phase = None


def invalid_argument_params(errors):
    """pytest params for a table of ``(error id, op, args factory, kwargs, exception, argument)`` rows,
    one per row and installed engine, with ids ``<error id>-<engine>``."""
    for error_id, op, args, kwargs, kind, argument in errors:
        for backend in BACKENDS:
            yield pytest.param(op, args, kwargs, kind, argument, backend, id=f"{error_id}-{backend}")


def check_invalid_argument(op, args, kwargs, kind, argument, backend):
    """``K.<op>`` raises ``kind`` with the shared message: "op: argument `arg` got … expected …"."""
    import kbackend as K  # after KERAS_HOME is set above

    pattern = re.escape(f"{op}: argument `{argument}` got ") + ".*expected"
    with K.backend_scope(backend):
        with pytest.raises(kind, match=pattern):
            getattr(K, op)(*args(), **kwargs)


# ---------------------------------------------------------------------------------------------------
# the fuzz suite's summary table (tests/test_fuzz.py writes one JSON file of counts per engine)


def pytest_configure(config):
    if not hasattr(config, "workerinput") and "KBACKEND_FUZZ_REPORT" not in os.environ:
        os.environ["KBACKEND_FUZZ_REPORT"] = tempfile.mkdtemp(prefix="kbackend-fuzz-")  # xdist workers inherit it


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import json

    if hasattr(config, "workerinput"):
        return
    folder = pathlib.Path(os.environ.get("KBACKEND_FUZZ_REPORT", "/nonexistent"))
    rows = {path.stem: json.loads(path.read_text()) for path in sorted(folder.glob("*.json"))}
    if not rows:
        return
    columns = list(next(iter(rows.values())))
    sweep = "full sweep" if os.environ.get("KBACKEND_FUZZ") == "full" else "ci slice"
    terminalreporter.write_sep("=", f"fuzz summary ({sweep})")
    terminalreporter.write_line("| engine | " + " | ".join(columns) + " |")
    terminalreporter.write_line("|---" * (len(columns) + 1) + "|")
    for engine in [b for b in BACKENDS if b in rows] + [e for e in rows if e not in BACKENDS]:
        terminalreporter.write_line(f"| {engine} | " + " | ".join(str(rows[engine][c]) for c in columns) + " |")
