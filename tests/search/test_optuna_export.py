"""A bnviz study round-trips through an Optuna storage: params, distributions, values, states,
curves. Skipped when Optuna (the ``optuna`` extra) is not installed."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bnviz.search.spaces import parse_space
from bnviz.search.study import Study, TrialResult, TrialState

optuna = pytest.importorskip("optuna")

from bnviz.search.optuna_export import ExportError, export_study  # noqa: E402

SPACES = [
    parse_space("lr", "1e-4:1:log"),
    parse_space("beta", "0.9:0.999:1m"),
    parse_space("batch_size", "16:256:pow2"),
    parse_space("width", "8:64:int"),
    parse_space("activation", "relu,tanh:cat"),
]
PARAMS = {"lr": 0.01, "beta": 0.95, "batch_size": 64, "width": 20, "activation": "tanh"}


def trial(state: str, loss: float | None, curve=((5, 1.0), (10, 0.5)), **kw) -> TrialResult:
    return TrialResult(
        dict(PARAMS, **kw.pop("params", {})), loss, 0.8, loss, 0.8, state == "diverged",
        7 if state == "diverged" else None, 1.5, curve[-1][0] if curve else 0, curve,
        state=TrialState(state), error="MemoryError: out" if state == "failed" else None, **kw,
    )  # fmt: skip


@pytest.fixture
def study(tmp_path):
    s = Study(tmp_path / "my-study.sqlite")
    r1 = s.new_round(SPACES, n=4, method="random", seed=0)
    s.add_trial(r1, trial("complete", 0.5))
    why = {"epochs": 1, "value": 0.9, "rank": 2, "of": 2, "kept": 1}
    s.add_trial(r1, trial("pruned", 0.9, curve=((5, 0.9),), bracket=1, pruned_at=why, seed=3))
    s.add_trial(r1, trial("diverged", math.nan, curve=((5, 2.0), (7, math.nan))))
    s.add_trial(r1, trial("failed", None, curve=()))
    # round 2 zooms lr and offers another activation: Optuna sees one categorical over both
    narrowed = [parse_space("lr", "1e-3:1e-1:log"), parse_space("activation", "relu,sigmoid:cat")]
    r2 = s.new_round(narrowed, n=1, method="random", seed=1)
    s.add_trial(r2, trial("complete", 0.4, params={"activation": "sigmoid"}, recheck_of=1))
    yield s
    s.close()


def test_the_study_round_trips_through_an_optuna_storage(study, tmp_path):
    storage = f"sqlite:///{tmp_path}/optuna.db"
    assert export_study(study, storage) == "my-study"
    loaded = optuna.load_study(study_name="my-study", storage=storage)
    assert loaded.direction == optuna.study.StudyDirection.MINIMIZE
    assert loaded.user_attrs["bnviz_study"] == str(study.path)
    got = loaded.trials
    states = optuna.trial.TrialState
    assert [t.state for t in got] == [
        states.COMPLETE,
        states.PRUNED,
        states.FAIL,
        states.FAIL,
        states.COMPLETE,
    ]
    assert [t.value for t in got] == [0.5, 0.9, None, None, 0.4]
    assert [t.user_attrs["bnviz_state"] for t in got] == [
        "complete",
        "pruned",
        "diverged",
        "failed",
        "complete",
    ]
    assert [t.user_attrs["bnviz_id"] for t in got] == [1, 2, 3, 4, 5]
    assert got[4].user_attrs["recheck_of"] == 1 and "recheck_of" not in got[0].user_attrs
    assert got[3].user_attrs["error"] == "MemoryError: out"
    assert got[1].user_attrs["pruned_at"] == {"epochs": 1, "value": 0.9, "rank": 2, "of": 2,
                                              "kept": 1}  # fmt: skip
    assert (got[1].user_attrs["bnviz_bracket"], got[1].user_attrs["seed"]) == (1, 3)
    assert "pruned_at" not in got[0].user_attrs and "bnviz_group" not in got[1].user_attrs
    first = got[0]
    assert first.params == PARAMS
    d = first.distributions
    assert d["lr"] == optuna.distributions.FloatDistribution(1e-4, 1.0, log=True)
    assert d["beta"] == optuna.distributions.FloatDistribution(0.9, 0.999)  # over beta itself
    assert d["batch_size"] == optuna.distributions.IntDistribution(16, 256, log=True)
    assert d["width"] == optuna.distributions.IntDistribution(8, 64)
    assert d["activation"] == optuna.distributions.CategoricalDistribution(
        ("relu", "tanh", "sigmoid")
    )
    assert first.user_attrs["bnviz_spaces"]["beta"] == "0.9:0.999:1m"  # the scale, kept
    assert got[4].distributions["lr"] == optuna.distributions.FloatDistribution(1e-3, 0.1, log=True)
    assert set(got[4].params) == {"lr", "activation"}  # what round 2 sampled
    assert got[4].user_attrs["bnviz_unsampled_params"]["width"] == 20
    # curves as intermediate values by step
    assert first.intermediate_values == {5: 1.0, 10: 0.5}
    assert got[1].intermediate_values == {5: 0.9}
    assert got[2].intermediate_values[5] == 2.0 and math.isnan(got[2].intermediate_values[7])
    assert got[3].intermediate_values == {}
    # Optuna reads the study like one of its own
    assert loaded.best_trial.user_attrs["bnviz_id"] == 5


def test_a_second_export_to_the_same_storage_is_refused(study, tmp_path):
    storage = f"sqlite:///{tmp_path}/optuna.db"
    export_study(study, storage)
    with pytest.raises(ExportError, match="already has a study named 'my-study'"):
        export_study(study, storage)
    assert export_study(study, storage, name="again") == "again"
    assert len(optuna.load_study(study_name="my-study", storage=storage).trials) == 5


def test_a_storage_that_cannot_be_opened_is_one_line(study):
    with pytest.raises(ExportError, match="cannot open the Optuna storage nosuch://x"):
        export_study(study, "nosuch://x")


def test_the_default_storage_is_a_file_no_export_wrote_yet(tmp_path):
    """A second export from the explorer is one click: the proposed URL is fresh."""
    from bnviz.search.optuna_export import default_storage

    study = tmp_path / "s.sqlite"
    first = default_storage(study)
    assert first == f"sqlite:///{tmp_path / 's.optuna.db'}"
    (tmp_path / "s.optuna.db").touch()
    assert default_storage(study) == f"sqlite:///{tmp_path / 's.optuna-2.db'}"
    (tmp_path / "s.optuna-2.db").touch()
    assert default_storage(study) == f"sqlite:///{tmp_path / 's.optuna-3.db'}"


def lr_decides(n: int = 40) -> tuple[list, list]:
    """A study of ``n`` trials whose loss depends on lr only, and its one round."""
    from bnviz.search.spaces import DEFAULT_SPACES
    from tests.search.records import record

    rng = np.random.default_rng(0)
    rounds = [{"id": 1, "spaces": [DEFAULT_SPACES["lr"], DEFAULT_SPACES["beta"]]}]
    trials = []
    for i in range(n):
        lr, beta = 10 ** rng.uniform(-4, 0), 1 - 10 ** rng.uniform(-3, -1)
        trials.append(record(i + 1, {"lr": lr, "beta": beta}, abs(np.log10(lr) + 2) + 0.1))
    return trials, rounds


def test_fanova_without_scikit_learn_says_what_to_install():
    # in a child process: Optuna caches its failed sklearn import in its modules
    code = (
        "import sys; sys.modules['sklearn'] = None\n"  # import sklearn now raises ImportError
        "from bnviz.search.optuna_export import ExportError, fanova_importance\n"
        "from tests.search.test_optuna_export import lr_decides\n"
        "try:\n    fanova_importance(*lr_decides())\n"
        "except ExportError as e:\n    print(e)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    from bnviz.search.optuna_export import FANOVA_HINT

    assert out.stdout.strip() == FANOVA_HINT, out.stderr


def test_fanova_finds_the_parameter_that_decides_the_loss():
    from bnviz.search.optuna_export import fanova_importance

    trials, rounds = lr_decides()
    got = fanova_importance(trials, rounds)
    assert set(got) == {"lr", "beta"} and got["lr"] > 0.9 > got["beta"]
    assert fanova_importance(trials[:5], rounds) == {}  # too few trials
