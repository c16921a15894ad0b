"""``bnviz export-code``: the exported script reproduces ``bnviz train`` to 1e-4 relative with
NumPy alone, for BN and plain networks, every optimizer and activation, 2-D data, the digits
and a user's file; the notebook is valid nbformat 4 and executes to the same numbers."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from bnviz.cli import main
from tests.export.standalone import parse_lines, read_metrics, run_blocked

RTOL = 1e-4
CASES = {
    "bn-momentum-sigmoid-spirals": ["--optimizer", "momentum"],
    "plain-sgd-tanh-blobs": ["--dataset", "blobs", "--no-bn", "--activation", "tanh",
                             "--lr", "0.1", "--hidden", "16,16"],
    "bn-rmsprop-relu-moons": ["--dataset", "moons", "--classes", "2", "--optimizer", "rmsprop",
                              "--lr", "0.01", "--activation", "relu", "--hidden", "24",
                              "--bn-momentum", "0.5", "--eps", "0.001"],
    "plain-adam-linear-xor-decay": ["--dataset", "xor", "--no-bn", "--optimizer", "adam",
                                    "--lr", "0.01", "--activation", "linear", "--lr-decay", "0.1",
                                    "--batch-size", "50", "--hidden", "8"],
    "bn-adam-relu-digits": ["--dataset", "digits", "--optimizer", "adam", "--lr", "0.003",
                            "--activation", "relu", "--hidden", "64,32"],
    "no-hidden-sgd-rings": ["--dataset", "rings", "--hidden", "0", "--lr", "0.3", "--seed", "3"],
}  # fmt: skip
RUN = ["--steps", "60", "--eval-every", "20"]


def _equal(script_rows, csv_rows) -> None:
    assert [r[0] for r in script_rows] == [r[0] for r in csv_rows] == [20, 40, 60]
    for (_, loss, acc), (_, loss_t, acc_t) in zip(script_rows, csv_rows):
        assert loss == pytest.approx(loss_t, rel=RTOL)
        assert acc == pytest.approx(acc_t, rel=RTOL)


@pytest.mark.parametrize("flags", CASES.values(), ids=CASES.keys())
def test_script_reproduces_bnviz_train(tmp_path, capsys, flags):
    out, metrics = tmp_path / "run.py", tmp_path / "m.csv"
    assert main(["export-code", str(out), *flags, *RUN]) == 0
    assert main(["train", *flags, *RUN, "--quiet", "--metrics", str(metrics)]) == 0
    done = run_blocked(out)
    assert done.returncode == 0, done.stderr
    _equal(parse_lines(done.stdout), read_metrics(metrics))


def test_script_imports_numpy_and_the_standard_library_only(tmp_path, capsys):
    out = tmp_path / "run.py"
    assert main(["export-code", str(out), "--optimizer", "momentum"]) == 0
    text = out.read_text()
    assert len(text.splitlines()) < 300  # an MLP with BN and momentum, readable beside the notes
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported == {"argparse", "math", "os", "numpy"}
    # only what the settings need: one optimizer, one activation
    assert "def update(" in text and "BETA2" not in text and "np.tanh" not in text


def test_script_flags_override_the_run_length(tmp_path, capsys):
    out, metrics = tmp_path / "run.py", tmp_path / "m.csv"
    flags = ["--dataset", "blobs", "--hidden", "8"]
    assert main(["export-code", str(out), *flags, "--epochs", "1"]) == 0
    assert main(["train", *flags, "--steps", "30", "--eval-every", "10", "--quiet",
                 "--metrics", str(metrics)]) == 0  # fmt: skip
    done = run_blocked(out, "--steps", "30", "--eval-every", "10")
    rows = parse_lines(done.stdout)
    assert [r[0] for r in rows] == [10, 20, 30]
    for mine, theirs in zip(rows, read_metrics(metrics)):
        assert mine[1] == pytest.approx(theirs[1], rel=RTOL)
    assert run_blocked(out, "--steps", "0").returncode == 2


def test_user_file_travels_beside_the_script(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3)) * [1.0, 5.0, 0.1] + [0.0, 10.0, -3.0]
    y = (X[:, 0] + (X[:, 2] + 3.0) * 10 > 0).astype(int)
    data = tmp_path / "mine.csv"
    np.savetxt(data, np.c_[X, y], delimiter=",", header="a,b,c,label", comments="")
    out, metrics = tmp_path / "code" / "run.py", tmp_path / "m.csv"
    out.parent.mkdir()
    flags = ["--dataset", str(data), "--hidden", "8", "--lr", "0.1"]
    assert main(["export-code", str(out), *flags, *RUN]) == 0
    assert (out.parent / "run.npz").is_file()
    assert main(["train", *flags, *RUN, "--quiet", "--metrics", str(metrics)]) == 0
    _equal(parse_lines(run_blocked(out).stdout), read_metrics(metrics))


def test_compare_mode_exports_the_first_network(tmp_path, capsys):
    out, metrics = tmp_path / "run.py", tmp_path / "m.csv"
    flags = ["--compare", "--hidden", "16"]
    assert main(["export-code", str(out), *flags, *RUN]) == 0
    assert "first network (bn)" in capsys.readouterr().err
    assert main(["train", *flags, *RUN, "--quiet", "--metrics", str(metrics)]) == 0
    _equal(parse_lines(run_blocked(out).stdout), read_metrics(metrics, "bn"))


@pytest.mark.parametrize(
    "args, message",
    [
        (["out.txt"], "choose a .py or .ipynb file name"),
        (["nowhere/out.py"], "does not exist"),
        (["out.py", "--preset", "no-such-preset"], "no preset named"),
        (["out.py", "--dataset", "nope"], "unknown data set"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(["export-code", *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_notebook_is_valid_and_executes_to_the_same_numbers(tmp_path, capsys):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
    out, script = tmp_path / "run.ipynb", tmp_path / "run.py"
    flags = ["--dataset", "digits", "--hidden", "32", "--optimizer", "momentum", *RUN]
    assert main(["export-code", str(out), *flags]) == 0
    assert main(["export-code", str(script), *flags]) == 0
    nb = nbformat.read(out, as_version=4)
    nbformat.validate(nb)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for formula in (
        "z = a^{[l-1]} W^T + b",
        "\\tilde z = \\gamma z_{norm} + \\beta",
        "dz = (a - Y)/m",
        "v \\leftarrow \\beta v + (1 - \\beta)\\, dw",
    ):
        assert formula in text  # fmt: skip
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")
    nbclient.NotebookClient(
        nb, timeout=300, resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                      for o in c.outputs)  # fmt: skip
    assert parse_lines(printed) == parse_lines(run_blocked(script).stdout)
    assert len(parse_lines(printed)) == 3
