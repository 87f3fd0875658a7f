"""The bad-input fuzz suite: every public op × every installed engine, with adversarial arguments.

Each call starts from a valid call (``tests/fuzz_tables.py``) and swaps one argument for a wrong type,
bad shape, axis out of range, bad dtype, NaN/inf, empty or huge value.  The calls run in a worker
subprocess per engine (``tests/fuzz_worker.py``), so that an engine that aborts or hangs costs one call,
not the run.  Asserted, per engine:

* 0 crashes and 0 hangs (a per-call time limit);
* 0 exceptions other than ``ValueError``/``TypeError``/``NotImplementedError``/``MemoryError`` (the
  caller's own callbacks may raise what they raise);
* 0 unnamed errors: every such error's message starts with the op's name;
* 0 differences from the NumPy reference, where both return, in value (within the dtype's tolerance),
  dtype, shape or NaN pattern — except those listed with their reason in ``tests/fuzz_allowed.txt``,
  which are compared by shape and dtype only.

A hypothesis test adds generated differential cases (elementwise ops and reductions over arrays with
NaN, inf and empty axes).  The summary table is printed at the end of the run.

CI runs a deterministic slice (the first record of each op, about a third of the mutations);
``KBACKEND_FUZZ=full`` runs every record with every mutation and more hypothesis examples.
"""

import fnmatch
import json
import os
import pathlib
import queue
import subprocess
import sys
import tempfile
import threading

import numpy as np
import pytest

import kbackend as K
from conftest import BACKENDS

HERE = pathlib.Path(__file__).parent
FULL = os.environ.get("KBACKEND_FUZZ") == "full"
MODE = "full" if FULL else "ci"
CALL_LIMIT = float(os.environ.get("KBACKEND_FUZZ_CALL_LIMIT", "60"))  # seconds per call: above is a hang
RECYCLE = int(os.environ.get("KBACKEND_FUZZ_RECYCLE", 1536 << 20))  # a worker past this resident size is replaced
COLUMNS = ("ok", "named error", "unnamed error", "leaked", "hang", "crash", "callback", "differs",
           "allowed", "known gap", "ok vs error")

TOLERANCE = {"float16": (2e-2, 2e-2), "bfloat16": (5e-2, 5e-2), "float32": (2e-4, 2e-5),
             "float64": (1e-7, 1e-9)}


# ---------------------------------------------------------------------------------------------------
# running the worker


def run_engine(engine, worker=HERE / "fuzz_worker.py", call_limit=None):
    """Run every fuzz call on ``engine``; returns the list of records (crashes and hangs included).

    The worker's lines are read by a thread into a queue, so that the time limit applies to the call
    in progress: a line already read (buffered) never waits behind the next call."""
    records, start, total = [], 0, None
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
               TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore")
    while total is None or start < total:
        with tempfile.TemporaryFile() as stderr:
            proc = subprocess.Popen([sys.executable, str(worker), engine, MODE, str(start),
                                     str(RECYCLE)],
                                    stdout=subprocess.PIPE, stderr=stderr, env=env, text=True, bufsize=1)
            lines = queue.Queue()
            threading.Thread(target=_read_lines, args=(proc.stdout, lines), daemon=True).start()
            current, finished, ids = None, False, {}
            try:
                while True:
                    limit = (call_limit or CALL_LIMIT) if current is not None else 300  # the first imports the engine
                    try:
                        line = lines.get(timeout=limit)
                    except queue.Empty:
                        proc.kill()
                        proc.wait()
                        if current is None:
                            raise RuntimeError(f"fuzz worker for {engine} stalled between calls after call "
                                               f"#{start}") from None
                        records.append({"id": ids.get(current, f"call #{current}"), "status": "hang",
                                        "index": current, "payload": {"type": "hang", "message": ""}})
                        start = current + 1
                        break
                    if not line:
                        code = proc.wait()
                        if finished:
                            return records
                        if current is None:
                            stderr.seek(0)
                            raise RuntimeError(f"fuzz worker for {engine} failed to start (exit {code}): "
                                               f"{stderr.read()[-2000:].decode(errors='replace')}")
                        stderr.seek(0)
                        records.append({"id": ids.get(current, f"call #{current}"), "status": "crash",
                                        "index": current, "payload": {"type": f"exit {code}",
                                                                      "message": _tail(stderr.read())}})
                        start = current + 1
                        break
                    tag, _, rest = line.rstrip("\n").partition(" ")
                    if tag == "N":
                        total = int(rest)
                    elif tag == "B":
                        index, _, call_id = rest.partition(" ")
                        current = int(index)
                        ids = {current: call_id}
                    elif tag == "R":
                        index, _, body = rest.partition(" ")
                        record = json.loads(body)
                        record["index"] = int(index)
                        records.append(record)
                        current = None
                    elif tag == "S":  # stopped to free memory: go on from there in a fresh worker
                        start = int(rest)
                        proc.wait()
                        break
                    elif tag == "E":
                        finished = True
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return records


def _read_lines(stream, lines):
    for line in iter(stream.readline, ""):
        lines.put(line)
    lines.put("")  # end of output: the worker exited


def _tail(stderr_bytes):
    text = stderr_bytes.decode(errors="replace").strip().splitlines()
    return " | ".join(text[-3:])[-300:]


# ---------------------------------------------------------------------------------------------------
# comparing with the reference


def allowed_table():
    """``tests/fuzz_allowed.txt``: ``<call id pattern> <engines> # reason``, one a line.  A reason that
    starts with ``gap:`` marks a known, not inherent, difference: not compared at all, counted apart."""
    rows = []
    for line in (HERE / "fuzz_allowed.txt").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        rule, _, reason = line.partition("#")
        pattern, _, engines = rule.strip().partition(" ")
        assert reason.strip(), f"fuzz_allowed.txt: {line!r} gives no reason"
        engines = engines.strip()
        rows.append((pattern, set(engines.split(",")) if engines not in ("", "*") else None,
                     reason.strip().startswith("gap:")))
    return rows


def is_allowed(table, call_id, engine, gap=False):
    return any(fnmatch.fnmatchcase(call_id, pattern) and (engines is None or engine in engines) and is_gap == gap
               for pattern, engines, is_gap in table)


def difference(ref, got, mode):
    """None when ``got`` matches the reference ``ref``; else what differs."""
    if mode == "none":
        return None
    if "seq" in ref or "seq" in got:
        if "seq" not in ref or "seq" not in got or len(ref["seq"]) != len(got["seq"]):
            return f"structure {_brief(got)} != {_brief(ref)}"
        for r, g in zip(ref["seq"], got["seq"]):
            d = difference(r, g, mode)
            if d:
                return d
        return None
    if "py" in ref or "py" in got:
        if mode == "shape" and "py" in ref and "py" in got:  # a Python value has no shape: its type decides
            same = type(ref["py"]) is type(got["py"])
            return None if same else f"type {type(got['py']).__name__} != {type(ref['py']).__name__}"
        return None if ref.get("py") == got.get("py") else f"value {got.get('py')} != {ref.get('py')}"
    if ref["shape"] != got["shape"]:
        return f"shape {tuple(got['shape'])} != {tuple(ref['shape'])}"
    if ref["dtype"] != got["dtype"]:
        return f"dtype {got['dtype']} != {ref['dtype']}"
    if mode == "shape":
        return None
    if "nan" in ref:
        if ref["nan"] != got.get("nan") or ref["nanmask"] != got.get("nanmask"):
            return f"NaN pattern ({got.get('nan')} NaN != {ref['nan']})"
        rtol, atol = TOLERANCE.get(ref["dtype"], (1e-6, 1e-6))
        if "values" in ref and "values" in got:
            if ref.get("infs") != got.get("infs"):
                return "inf pattern"
            r = np.array([np.nan if v is None else v for v in ref["values"]], np.float64)
            g = np.array([np.nan if v is None else v for v in got["values"]], np.float64)
            if not np.array_equal(np.isnan(r), np.isnan(g)):
                return "non-finite pattern"
            finite = ~np.isnan(r)
            scale = max(1.0, float(np.abs(r[finite]).max())) if finite.any() else 1.0
            if not np.allclose(g[finite], r[finite], rtol=rtol, atol=atol * scale):
                worst = float(np.abs(g[finite] - r[finite]).max())
                return f"values differ by up to {worst:.3g}"
            return None
        if ref["stats"] and got["stats"]:
            if not np.allclose(got["stats"], ref["stats"], rtol=max(rtol, 1e-3), atol=atol):
                return f"statistics {got['stats']} != {ref['stats']}"
        return None
    if "values" in ref and "values" in got:
        return None if ref["values"] == got["values"] else "int values differ"
    if ref.get("stats") != got.get("stats"):
        return f"statistics {got.get('stats')} != {ref.get('stats')}"
    return None


def _brief(summary):
    return "list" if "seq" in summary else "value" if "py" in summary else "tensor"


def classify(engine, records, table):
    """Counts per column, and the offending calls per column."""
    counts = dict.fromkeys(COLUMNS, 0)
    offenders = {c: [] for c in COLUMNS}
    status_column = {"ok": "ok", "named": "named error", "unnamed": "unnamed error", "leaked": "leaked",
                     "hang": "hang", "crash": "crash", "callback": "callback"}
    for record in records:
        status = record["status"]
        if status == "skip":
            continue
        column = status_column[status]
        counts[column] += 1
        offenders[column].append(record)
        if engine == "numpy" or status != "ok" or record.get("ref_status") is None:
            if engine != "numpy" and status == "ok" and record.get("ref_status") not in (None, "ok"):
                counts["ok vs error"] += 1
                offenders["ok vs error"].append(record)
            continue
        if record["ref_status"] != "ok":
            counts["ok vs error"] += 1
            offenders["ok vs error"].append(record)
            continue
        diff = difference(record["ref"], record["payload"], record["compare"])
        if diff and is_allowed(table, record["id"], engine, gap=True):
            counts["known gap"] += 1
            continue
        if diff and is_allowed(table, record["id"], engine):
            counts["allowed"] += 1
            diff = difference(record["ref"], record["payload"], "shape")
        if diff:
            counts["differs"] += 1
            offenders["differs"].append(dict(record, diff=diff))
    return counts, offenders


# ---------------------------------------------------------------------------------------------------
# the tests


@pytest.mark.parametrize("engine", BACKENDS)
def test_fuzz(engine):
    table = allowed_table()
    records = run_engine(engine)
    counts, offenders = classify(engine, records, table)
    report_dir = os.environ.get("KBACKEND_FUZZ_REPORT")
    if report_dir:
        pathlib.Path(report_dir, f"{engine}.json").write_text(json.dumps(counts))
    problems = []
    for column in ("unnamed error", "leaked", "hang", "crash", "differs"):
        for record in offenders[column][:25]:
            detail = record.get("diff") or (record.get("payload") or {}).get("message", "")
            kind = (record.get("payload") or {}).get("type", "")
            problems.append(f"{column}: {record['id']}: {kind} {detail}"[:300])
    assert not problems, f"{engine}: {counts}\n" + "\n".join(problems)


FAKE_WORKER = """
import json, os, sys, time
start = int(sys.argv[3])
print("N 5", flush=True)
for index in range(start, 5):
    print(f"B {index} fake/{index}", flush=True)
    if index == 1:
        time.sleep(60)  # a hang
    if index == 2:
        os.abort()  # a crash
    print(f"R {index} " + json.dumps({"id": f"fake/{index}", "status": "ok"}), flush=True)
    if index == 3:
        print("S 4", flush=True)  # recycled: the next worker starts at 4
        sys.exit(0)
print("E", flush=True)
"""


def test_the_runner_names_hangs_and_crashes_and_goes_on(tmp_path):
    """A hung or crashed call is recorded under its own id, and a fresh worker goes on after it (the
    runner once waited for a line it had already read, and restarted at the wrong call)."""
    worker = tmp_path / "worker.py"
    worker.write_text(FAKE_WORKER)
    records = run_engine("numpy", worker=worker, call_limit=3)
    assert [(r["id"], r["status"]) for r in records] == [
        ("fake/0", "ok"), ("fake/1", "hang"), ("fake/2", "crash"), ("fake/3", "ok"), ("fake/4", "ok")]
    assert records[2]["payload"]["type"] == "exit -6"


def test_allowed_differences_have_reasons():
    for pattern, engines, gap in allowed_table():
        assert "/" in pattern, f"fuzz_allowed.txt: {pattern!r} is not a call id pattern (op/record/param=mutation)"


# ---------------------------------------------------------------------------------------------------
# hypothesis: generated differential cases on valid inputs

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

ELEMENTWISE = ["abs", "square", "sqrt", "exp", "log", "sign", "round", "sin", "cos", "relu", "elu", "softplus",
               "softsign", "sigmoid", "hard_sigmoid", "tanh"]
REDUCTIONS = ["sum", "prod", "mean", "max", "min", "var", "std", "any", "all", "logsumexp"]
BINARY = ["maximum", "minimum", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal"]
ENGINES = [e for e in BACKENDS if e != "numpy"]
EXAMPLES = 400 if FULL else 40


@st.composite
def arrays(draw, min_dims=0):
    dtype = draw(st.sampled_from(["float32", "float64", "int32"]))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=0, max_side=4))
    if dtype == "int32":
        elements = st.integers(-50, 50)
    else:
        elements = st.floats(allow_nan=True, allow_infinity=True, width=32 if dtype == "float32" else 64,
                             min_value=None, max_value=None)
    return draw(hnp.arrays(dtype, shape, elements=elements))


@st.composite
def calls(draw):
    kind = draw(st.sampled_from(["elementwise", "reduction", "binary"]))
    if kind == "elementwise":
        return draw(st.sampled_from(ELEMENTWISE)), (draw(arrays()),), {}
    if kind == "binary":
        x = draw(arrays())
        y = draw(hnp.arrays(x.dtype, x.shape, elements=st.integers(-3, 3) if x.dtype.kind == "i" else
                            st.floats(-3, 3, width=32 if x.dtype == np.float32 else 64)))
        return draw(st.sampled_from(BINARY)), (x, y), {}
    x = draw(arrays(min_dims=1))
    name = draw(st.sampled_from(REDUCTIONS))
    axes = draw(st.one_of(st.none(), st.integers(-x.ndim, x.ndim - 1),
                          st.lists(st.integers(0, x.ndim - 1), unique=True, max_size=x.ndim)))
    return name, (x,), {"axis": axes, "keepdims": draw(st.booleans())}


def _answer(engine, name, args, kwargs):
    with K.backend_scope(engine):
        try:
            out = getattr(K, name)(*[K.constant(a, dtype=K.dtype(a)) for a in args], **kwargs)
            return "ok", np.asarray(K.eval(out))
        except (ValueError, TypeError) as exc:
            assert str(exc).startswith(name + ":"), f"{engine}: unnamed error {exc}"
            return "error", None


@pytest.mark.skipif(not ENGINES, reason="NumPy is the only engine installed")
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None,
          suppress_health_check=list(HealthCheck))
@given(call=calls())
def test_hypothesis_differential(call):
    name, args, kwargs = call
    status, expected = _answer("numpy", name, args, kwargs)
    for engine in ENGINES:
        got_status, got = _answer(engine, name, args, kwargs)
        assert got_status == status, f"{engine} {name}: {got_status} where NumPy gives {status}"
        if status != "ok":
            continue
        assert got.shape == expected.shape, f"{engine} {name}: shape {got.shape} != {expected.shape}"
        assert got.dtype == expected.dtype, f"{engine} {name}: dtype {got.dtype} != {expected.dtype}"
        if expected.dtype.kind == "f":
            rtol, atol = TOLERANCE[str(expected.dtype)]
            np.testing.assert_array_equal(np.isnan(got), np.isnan(expected), err_msg=f"{engine} {name}: NaN pattern")
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol, equal_nan=True,
                                       err_msg=f"{engine} {name}")
        else:
            np.testing.assert_array_equal(got, expected, err_msg=f"{engine} {name}")
