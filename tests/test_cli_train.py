"""``bnviz train`` from the command line: metrics, saving, summary, and bad flags."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest

from bnviz.cli import main
from bnviz.nn.network import MLP


def test_train_writes_metrics_and_model(tmp_path, capsys):
    metrics, model = tmp_path / "m.csv", tmp_path / "model.npz"
    rc = main(
        [
            "train",
            "--samples",
            "200",
            "--hidden",
            "16",
            "--epochs",
            "5",
            "--quiet",
            "--metrics",
            str(metrics),
            "--save",
            str(model),
            "--seed",
            "3",
        ]
    )
    assert rc == 0
    out = capsys.readouterr().out
    assert "final val loss" in out and "steps/s" in out
    rows = list(csv.DictReader(metrics.open()))
    assert rows and set(rows[0]) >= {
        "step",
        "epoch",
        "run",
        "train_loss",
        "smoothed_loss",
        "val_loss",
        "val_acc",
    }
    assert [int(r["step"]) for r in rows] == sorted(int(r["step"]) for r in rows)
    net = MLP.load(model)
    assert net.sizes == [2, 16, 3] and net.batchnorm


def test_compare_mode_saves_both_networks(tmp_path, capsys):
    rc = main(
        [
            "train",
            "--compare",
            "--samples",
            "200",
            "--hidden",
            "8",
            "--steps",
            "20",
            "--quiet",
            "--save",
            str(tmp_path / "pair.npz"),
        ]
    )
    assert rc == 0
    assert MLP.load(tmp_path / "pair-bn.npz").batchnorm
    assert not MLP.load(tmp_path / "pair-plain.npz").batchnorm
    out = capsys.readouterr().out
    assert "bn (BN)" in out and "plain (no BN)" in out


def test_divergence_is_reported_not_raised(capsys):
    rc = main(["train", "--no-bn", "--optimizer", "sgd", "--lr", "20", "--activation", "relu",
               "--hidden", "64,64", "--steps", "200", "--quiet"])  # fmt: skip
    assert rc == 0
    assert "DIVERGED at step" in capsys.readouterr().out


def test_same_seed_same_metrics(tmp_path):
    for name in ("a", "b"):
        main(
            [
                "train",
                "--samples",
                "200",
                "--hidden",
                "8",
                "--steps",
                "40",
                "--quiet",
                "--metrics",
                str(tmp_path / f"{name}.csv"),
            ]
        )
    assert (tmp_path / "a.csv").read_text() == (tmp_path / "b.csv").read_text()


def test_user_csv_file(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 4))
    path = tmp_path / "data.csv"
    np.savetxt(path, np.column_stack([X, (X[:, 1] > 0).astype(int)]), delimiter=",")
    assert main(["train", "--dataset", str(path), "--steps", "30", "--quiet"]) == 0
    assert "4 features, 2 classes" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--lr", "-1"], "--lr"),
        (["--lr", "abc"], "expected a number"),
        (["--hidden", "64,x"], "hidden"),
        (["--batch-size", "1"], "variance over one example is 0"),  # BN is on by default
        (["--batch-size", "0"], "must be >= 1"),
        (["--activation", "gelu"], "invalid choice"),
        (["--bn", "--no-bn"], "not allowed with"),
        (["--epochs", "3", "--steps", "5"], "not allowed with"),
        (["--dataset", "nope.csv"], "nope.csv"),
        (["--dataset", "unknownset"], "unknown data set"),
        (["--momentum", "1.5"], "[0, 1)"),
        (["--settings", "/no/such/settings.json"], "no such file"),
        (["--metrics", "/no/such/dir/m.csv"], "does not exist"),
    ],
)
def test_bad_flags_get_one_line_and_status_2(argv, words, capsys):
    with pytest.raises(SystemExit) as e:
        main(["train", *argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err


def test_python_dash_m_runs_the_same_cli():
    proc = subprocess.run(
        [sys.executable, "-m", "bnviz", "train", "--steps", "5", "--quiet", "--samples", "100"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0 and "steps/s" in proc.stdout


@pytest.mark.parametrize("spelling", ["", "0", "none"])
def test_no_hidden_layer_is_softmax_regression(spelling, tmp_path, capsys):
    """``--hidden ""`` (or 0, none): no hidden layer, the input straight into the softmax."""
    model = tmp_path / "m.npz"
    argv = ["train", "--dataset", "blobs", "--classes", "4", "--hidden", spelling]
    rc = main([*argv, "--steps", "50", "--quiet", "--save", str(model)])
    assert rc == 0 and "hidden none" in capsys.readouterr().out
    net = MLP.load(model)
    assert sorted(net.params) == ["W1", "b1"] and net.params["W1"].shape == (4, 2)
