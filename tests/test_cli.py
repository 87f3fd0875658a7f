"""The command line as a user runs it: ``python -m kbackend`` in a fresh interpreter, and the package's
metadata."""

import json
import os
import stat
import subprocess
import sys

import pytest

import kbackend as K

from conftest import BACKENDS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def kbackend_cli(*args, home, env=None):
    environment = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "KERAS_HOME")}
    environment.update({"KERAS_HOME": str(home), "PYTHONPATH": ROOT, **(env or {})})
    return subprocess.run([sys.executable, "-m", "kbackend", *args], env=environment, capture_output=True,
                          text=True, timeout=120)


def test_version(tmp_path):
    result = kbackend_cli("--version", home=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"kbackend {K.__version__}"


def test_config_get(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"floatx": "float64", "epsilon": 1e-4}))
    assert kbackend_cli("config", "get", "floatx", home=tmp_path).stdout.strip() == "float64"
    assert kbackend_cli("config", "get", "epsilon", home=tmp_path).stdout.strip() == "0.0001"
    result = kbackend_cli("config", "get", "backend", home=tmp_path, env={"KERAS_BACKEND": "kbackend.torch"})
    assert result.stdout.strip() == "torch", result.stderr
    assert kbackend_cli("config", "get", "colour", home=tmp_path).returncode == 2


def test_a_bad_file_does_not_stop_the_command_line_that_repairs_it(tmp_path):
    path = tmp_path / "keras.json"
    path.write_text(json.dumps({"floatx": "float8", "custom": [1, 2]}))
    result = kbackend_cli("config", "path", home=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == str(path), result.stderr
    result = kbackend_cli("config", "get", "floatx", home=tmp_path)
    assert result.returncode == 1 and str(path) in result.stderr and "float8" in result.stderr
    result = kbackend_cli(home=tmp_path)  # info shows the problem instead of crashing
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "float8" in result.stdout and "float8" in result.stderr
    result = kbackend_cli("config", "set", "floatx", "float32", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(path.read_text()) == {"floatx": "float32", "custom": [1, 2]}
    assert kbackend_cli("config", "get", "floatx", home=tmp_path).stdout.strip() == "float32"


@pytest.mark.parametrize("key,value,expected", [("backend", "torhc", "numpy, "), ("epsilon", "abc", "'epsilon'"),
                                                ("epsilon", "inf", "'epsilon'"), ("epsilon", "0", "'epsilon'"),
                                                ("floatx", "float8", "float16"), ("backend", "kbackend", "kbackend.<engine>"),
                                                ("image_data_format", "channels_middle", "channels_last")])
def test_config_set_checks_the_value_before_writing(tmp_path, key, value, expected):
    path = tmp_path / "keras.json"
    path.write_text('{"backend": "numpy"}')
    result = kbackend_cli("config", "set", key, value, home=tmp_path)
    assert result.returncode == 2
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert repr(value) in message and key in message and expected in message
    assert path.read_text() == '{"backend": "numpy"}'


def test_config_set_accepts_engine_names(tmp_path):
    for name in ("jax", "kbackend.torch", "theano"):
        assert kbackend_cli("config", "set", "backend", name, home=tmp_path).returncode == 0
    assert json.loads((tmp_path / "keras.json").read_text()) == {"backend": "theano"}


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o600])
def test_config_set_keeps_the_file_mode(tmp_path, mode):
    path = tmp_path / "keras.json"
    path.write_text("{}")
    path.chmod(mode)
    assert kbackend_cli("config", "set", "epsilon", "1e-5", home=tmp_path).returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == mode
    assert json.loads(path.read_text()) == {"epsilon": 1e-5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keras.json"]


def test_config_set_creates_the_file_as_the_umask_says(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    home = tmp_path / "new"
    assert kbackend_cli("config", "set", "floatx", "float64", home=home).returncode == 0
    assert stat.S_IMODE((home / "keras.json").stat().st_mode) == 0o666 & ~umask


def test_config_set_on_a_malformed_file_names_it(tmp_path):
    path = tmp_path / "keras.json"
    path.write_text('{"floatx": ')
    result = kbackend_cli("config", "set", "floatx", "float64", home=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"error: {path} is not valid JSON" in result.stderr
    assert path.read_text() == '{"floatx": '


def test_info_lists_usable_engines_only(tmp_path):
    result = kbackend_cli(home=tmp_path)
    assert result.returncode == 0, result.stderr
    usable = result.stdout.split("engines usable here:\n")[1].split("\n\n")[0]
    listed = [line.split()[0] for line in usable.splitlines() if line.startswith("  ")]
    assert listed == K.config.usable_engines() and "numpy" in listed
    assert "dask" not in result.stdout


def test_demo_unknown_backend_is_one_line_before_any_work(tmp_path):
    result = kbackend_cli("demo", "--backend", "nosuch", home=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and "'nosuch'" in message
    assert ", ".join(K.config.usable_engines()) in message


@pytest.mark.parametrize("epochs", ["0", "-1", "two"])
def test_demo_epochs_must_be_positive(tmp_path, epochs):
    result = kbackend_cli("demo", "--epochs", epochs, home=tmp_path)
    assert result.returncode == 2 and "--epochs" in result.stderr and ">= 1" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_is_plain_text(tmp_path):
    for args in (["--help"], ["demo", "--help"], ["config", "--help"], ["config", "set", "--help"]):
        result = kbackend_cli(*args, home=tmp_path)
        assert result.returncode == 0 and "``" not in result.stdout and ":func:" not in result.stdout


def test_demo_writes_one_line_per_epoch_when_not_a_terminal(tmp_path):
    pytest.importorskip("sklearn")
    result = kbackend_cli("demo", "--epochs", "2", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert [line.split()[1] for line in epochs] == ["1/2", "2/2"]
    assert all("test acc" in line for line in epochs)


def test_demo_redraws_in_place_on_a_terminal():
    import io

    from kbackend.demo import progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    for done in (10, 20):
        progress(1, 1, done, 20, 0.5, 0.5, 0.0, stream)
    assert stream.getvalue().count("\r") == 2


def test_packaging_metadata():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        project = tomllib.load(f)["project"]
    assert project["license"] == "Apache-2.0"
    assert "version" not in project and "version" in project["dynamic"]
    assert "dask" not in project["optional-dependencies"]
    assert all("dask" not in extra for extras in project["optional-dependencies"].values() for extra in extras)
    assert "Dask" not in project["description"] and "PyTensor" in project["description"]


def test_where_names_the_declaration_and_each_engines_implementation(tmp_path):
    result = kbackend_cli("where", "prod", "--engines", *BACKENDS, home=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("K.prod  declared at kbackend/ops/math.py:")
    declared = lines[0].split()[-1]
    assert lines[1].split() == ["numpy", declared, "(the", "reference)"]
    assert [line.split()[0] for line in lines[1:]] == BACKENDS
    for line in lines[1:]:  # each engine's file:line is the def line of its prod
        engine, location = line.split()[:2]
        path, number = location.split(":")
        assert engine == "numpy" or path.startswith(f"kbackend/backends/{engine}/")
        assert open(os.path.join(ROOT, path)).read().splitlines()[int(number) - 1].startswith("def prod(")


def test_where_names_the_namespace_that_runs_the_reference_body(tmp_path):
    result = kbackend_cli("where", "clip", "--engines", "numpy", "jax", "pytensor", home=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    declared = lines[0].split()[-1]
    assert lines[1].split() == ["numpy", declared, "(the", "reference)"]
    assert lines[2].split() == ["jax", declared, "(the", "reference,", "on", "jax.numpy)"]
    assert lines[3].split() == ["pytensor", declared, "(the", "reference,", "on", "pytensor.tensor)"]


def test_where_suggests_names(tmp_path):
    result = kbackend_cli("where", "prd", home=tmp_path)
    assert result.returncode == 2 and "did you mean prod" in result.stderr


def test_where_names_a_function_that_is_not_an_op(tmp_path):
    result = kbackend_cli("where", "learning_phase_scope", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("K.learning_phase_scope  defined at kbackend/config.py:")
