"""``bnviz lr-find``: the --json layout, the schedule and stop rule it follows, its table, and
one-line errors with exit 2."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from bnviz.cli import main

FLAGS = ["--dataset", "blobs", "--samples", "300", "--hidden", "16,16", "--batch", "32"]


def _json(capsys, *extra: str) -> dict:
    assert main(["lr-find", *FLAGS, "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)


def test_json_follows_the_schedule_and_the_stop_rule(capsys):
    out = _json(capsys, "--compare", "--start", "1e-3", "--end", "1e4", "--num-it", "50")
    assert list(out["runs"]) == ["with BN", "without BN"]
    q = (1e4 / 1e-3) ** (1 / 49)
    for run in out["runs"].values():
        lrs, losses = np.array(run["lrs"]), run["losses"]
        assert set(run) >= {"lrs", "losses", "suggestions"}
        assert set(run["suggestions"]) == {"valley", "slide", "minimum", "steep"}
        np.testing.assert_allclose(lrs, 1e-3 * q ** np.arange(len(lrs)), rtol=1e-12)
        assert len(lrs) == len(losses) < 50  # it blew up before the end of the range
        last = losses[-1]
        best = min(v for v in losses[:-1] if v is not None)
        assert last is None or last > 4 * min(best, last)  # the step that stopped it
        assert all(v is not None and v <= 4 * best for v in losses[:-1])


def test_no_stop_div_runs_the_whole_schedule(capsys):
    out = _json(capsys, "--start", "1e-3", "--end", "1e4", "--num-it", "40", "--no-stop-div")
    (run,) = out["runs"].values()
    assert len(run["lrs"]) == 40 and run["lrs"][-1] == pytest.approx(1e4)
    assert all(v is None or math.isfinite(v) for v in run["losses"])


def test_table(capsys):
    assert main(["lr-find", *FLAGS, "--num-it", "30", "--end", "100"]) == 0
    out = capsys.readouterr().out
    assert "suggestions: valley" in out and "steep" in out and "to lr" in out


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--start", "1", "--end", "0.1"], "start < end"),
        (["--num-it", "5"], ">= 6"),
        (["--start", "-1"], "positive"),
        (["--compare", "--compare-setting", "lr"], "learning rate"),
    ],
)
def test_bad_flags_exit_2_with_one_line(capsys, flags, message):
    with pytest.raises(SystemExit) as e:
        main(["lr-find", *FLAGS, *flags])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
