"""Worker of the fuzz suite: runs the fuzz calls on one engine and reports each on stdout.

    python tests/fuzz_worker.py ENGINE MODE START [RECYCLE_BYTES]

``MODE`` is ``ci`` or ``full``.  For each call from index ``START`` it prints ``B <index> <call id>`` before the call
and ``R <index> <json>`` after it, so that the parent (``tests/test_fuzz.py``) knows which call a crash or
a hang happened in, and restarts the worker after it.  On an engine other than NumPy the worker also
runs the call on NumPy (the reference) and reports both answers.  Past ``RECYCLE_BYTES`` of resident
memory it stops after a call with ``S <next index>``, and the parent starts a fresh worker there.
"""

import json
import math
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.simplefilter("ignore")

import numpy as np  # noqa: E402

try:  # a safety net for a shared machine: a call that allocates more fails in the worker, not the machine
    import resource

    _limit = int(os.environ.get("KBACKEND_FUZZ_MEMORY", 6 << 30))
    resource.setrlimit(resource.RLIMIT_DATA, (_limit, _limit))
except (ImportError, ValueError, OSError):
    pass

import kbackend as K  # noqa: E402
import fuzz_tables  # noqa: E402

CONTRACT = (ValueError, TypeError, NotImplementedError, MemoryError)
SMALL = 256  # outputs up to this many elements are reported whole


def summarize(out):
    """A JSON-able summary of an op's answer (arrays evaluated on the active engine)."""
    if isinstance(out, (list, tuple)) and not hasattr(out, "dense_shape"):
        return {"seq": [summarize(o) for o in out]}
    if out is None or isinstance(out, (bool, int, float, str)) and not isinstance(out, np.generic):
        return {"py": repr(out)[:200]}
    if isinstance(out, dict):  # passed through untouched (in_train_phase's chosen branch): not a tensor
        return {"py": "dict of " + repr(sorted(map(str, out)))[:200]}
    if all(hasattr(out, a) for a in ("indices", "values", "dense_shape")):
        return {"seq": [summarize(getattr(out, a)) for a in ("indices", "values", "dense_shape")]}
    array = np.asarray(K.eval(out))
    record = {"shape": list(array.shape), "dtype": K.dtype(array)}
    if array.dtype.kind in "fc" or record["dtype"] == "bfloat16":
        wide = array.astype(np.complex128 if array.dtype.kind == "c" else np.float64)
        real = wide.real if array.dtype.kind == "c" else wide
        record["nan"] = int(np.isnan(real).sum())
        record["nanmask"] = _mask(np.isnan(real))
        finite = real[np.isfinite(real)]
        record["stats"] = [float(finite.sum()), float(finite.min()), float(finite.max())] if finite.size else []
        if array.size <= SMALL:
            record["values"] = [None if not math.isfinite(v) else v for v in real.reshape(-1).tolist()]
            record["infs"] = [int(s) for s in np.sign(real[np.isinf(real)]).tolist()]
    elif array.dtype.kind in "biu":
        record["stats"] = [int(array.sum()), int(array.min()), int(array.max())] if array.size else []
        if array.size <= SMALL:
            record["values"] = array.reshape(-1).astype(np.int64).tolist()
    else:
        record["repr"] = repr(array.reshape(-1)[:8].tolist())[:200]
    return record


def _mask(bits):
    flat = np.packbits(bits.reshape(-1).astype(np.uint8))
    return flat.tobytes().hex()[:64]


def attempt(op, call):
    """``(status, payload)`` of one call on the active engine."""
    built = fuzz_tables.build(call)
    if built is None:
        return "skip", None
    args, kwargs = built
    try:
        out = getattr(K, op)(*args, **kwargs)
        return "ok", summarize(out)
    except Exception as exc:  # noqa: BLE001 - what the suite counts
        if getattr(exc, "_kbackend_callback", False):  # the caller's own callback raised it
            return "callback", {"type": type(exc).__name__, "message": str(exc)[:300]}
        if not isinstance(exc, CONTRACT):
            return "leaked", {"type": f"{type(exc).__module__}.{type(exc).__name__}", "message": str(exc)[:300]}
        message = str(exc)
        status = "named" if message.startswith(op + ":") else "unnamed"
        return status, {"type": type(exc).__name__, "message": message[:300]}


def resident_bytes():
    """The worker's resident memory now (Linux), or 0 where unknown."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def main():
    engine, mode, start = sys.argv[1], sys.argv[2], int(sys.argv[3])
    # Past this much resident memory (compiled-function caches grow with every new call) the worker stops
    # after a call and says where to go on: the parent starts a fresh one there.
    recycle = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    calls = fuzz_tables.calls(full=mode == "full")
    print(f"N {len(calls)}", flush=True)
    for index in range(start, len(calls)):
        call = calls[index]
        op = call[1].op
        print(f"B {index} {call[0]}", flush=True)
        K.clear_session() if hasattr(K, "clear_session") else None
        K.set_floatx("float32")
        K.set_learning_phase(0)
        K.config._learning_phase = None
        with K.backend_scope(engine):
            status, payload = attempt(op, call)
        record = {"id": call[0], "op": op, "status": status, "payload": payload,
                  "compare": fuzz_tables.compare_mode(call[1], call[2])}
        if engine != "numpy" and status == "ok":
            with K.backend_scope("numpy"):
                ref_status, ref_payload = attempt(op, call)
            record["ref_status"], record["ref"] = ref_status, ref_payload
        elif engine != "numpy":
            record["ref_status"] = None
        print(f"R {index} {json.dumps(record)}", flush=True)
        if recycle and index + 1 < len(calls) and resident_bytes() > recycle:
            print(f"S {index + 1}", flush=True)
            return
    print("E", flush=True)


if __name__ == "__main__":
    main()
