"""Successive halving: where the rungs are, who goes on (with a fake objective), and real pruned
rounds on the serial and the process executor."""

from __future__ import annotations

import json
import math
import statistics

import pytest

from bnviz.search.halving import planned_epochs, promote, rung_epochs
from bnviz.search.spaces import DEFAULT_SPACES, parse_space
from bnviz.search.study import Study, TrialResult, TrialState
from bnviz.search.sweep import (
    Paused,
    SerialExecutor,
    Sweep,
    TrialSpec,
    apply_params,
    make_executor,
    run_trial,
    sweep_json,
)
from bnviz.train.config import TrainConfig

TINY = TrainConfig(
    n_samples=100, hidden=(8,), batch_size=16, optimizer="momentum", activation="relu"
)
SAFE_LR = [parse_space("lr", "1e-3:1e-1:log")]  # nothing diverges on TINY in this range


@pytest.mark.parametrize(
    "epochs, rungs",
    [(27, (3, 9, 27)), (9, (1, 3, 9)), (20, (2, 6, 20)), (4, (1, 4)), (2, (2,)), (1, (1,))],
)
def test_rungs_are_at_a_ninth_and_a_third_of_the_budget(epochs, rungs):
    assert rung_epochs(epochs) == rungs


def test_the_best_third_goes_on_ties_to_the_earlier_sample():
    losses = {4: 0.5, 0: 0.9, 7: math.nan, 2: 0.5, 5: None, 1: 0.1, 3: 0.5, 6: 0.7, 8: math.inf}
    assert promote(losses) == ([1, 2, 3], [0, 4, 5, 6, 7, 8])
    # the order the results arrived in does not matter
    assert promote(dict(reversed(list(losses.items())))) == ([1, 2, 3], [0, 4, 5, 6, 7, 8])
    assert promote({3: 0.2, 1: 0.4}) == ([3], [1])  # at least one goes on
    assert promote({}) == ([], [])
    with pytest.raises(ValueError, match="factor"):
        promote({0: 1.0}, factor=1)


def test_planned_epochs_of_27_trials_of_27_epochs():
    assert planned_epochs(27, 27) == 27 * 3 + 9 * 6 + 3 * 18 == 189
    assert planned_epochs(5, 2) == 10  # no rung before the end: nothing to prune


# -- the driver, on a fake objective ------------------------------------------------------------

# Trial index -> validation loss from epoch 1, from epoch 3 and at epoch 9 (None: diverges at
# once). Trial 8 leads at epoch 1 but not at 3; 1, 3, 5 tie at epoch 1.
FAKE = {
    0: (0.9, 0.8, 0.7), 1: (0.5, 0.40, 0.3), 2: (0.7, 0.6, 0.5), 3: (0.5, 0.20, 0.1),
    4: (0.8, 0.7, 0.6), 5: (0.5, 0.1, 0.05), 6: (0.6, 0.5, 0.4), 7: (0.95, 0.9, 0.8),
    8: (0.3, 0.30, 0.2),
}  # fmt: skip
CALLS: list[tuple[int, int, int]] = []  # (trial, from epoch, to epoch) of every segment


def fake_segment(spec: TrialSpec, until: int, paused: Paused | None):
    """Loss by the FAKE_ROWS table (row: the trial's index), 10 steps an epoch; records each
    call."""
    row = FAKE_ROWS[spec.index]
    done = 0 if paused is None else paused.epochs
    CALLS.append((spec.index, done, until))
    if row is None:
        curve = ((10, math.nan),)
        result = TrialResult(spec.params, math.nan, None, None, None, True, 10, 0.0, 10, curve)
        return result, None
    curve = tuple((10 * e, row[0] if e < 3 else row[1] if e < 9 else row[2])
                  for e in range(1, until + 1))  # fmt: skip
    loss = curve[-1][1]
    result = TrialResult(spec.params, loss, 0.5, loss, 0.5, False, None, 0.0, 10 * until, curve)
    return result, (None if until == spec.epochs else Paused(b"", until, 0.0))


FAKE_ROWS: dict[int, tuple[float, float, float] | None] = dict(FAKE)


def fake_sweep(tmp_path, rows: dict) -> list:
    FAKE_ROWS.clear()
    FAKE_ROWS.update(rows)
    CALLS.clear()
    sweep = Sweep(Study(tmp_path / "s.sqlite"), TINY, SAFE_LR, n=9, epochs=9, prune=True,
                  segment=fake_segment)  # fmt: skip
    records = sweep.run(SerialExecutor())
    index = {json.dumps(spec.params): spec.index for spec in sweep.specs()}
    return [(index[json.dumps(r.params)], r) for r in records]


def test_each_rung_keeps_exactly_the_best_third_of_those_that_reached_it(tmp_path):
    records = fake_sweep(tmp_path, FAKE)
    by_row = dict(records)
    assert len(records) == 9 == len(by_row)
    # epoch 1: 8, then 1 and 3 of the tie at 0.5 (5 loses it, though it would have won)
    assert sorted(i for i, _, to in CALLS if to == 3) == [1, 3, 8]
    # epoch 3: 3 alone (8 led at epoch 1 but not here)
    assert [i for i, _, to in CALLS if to == 9] == [3]
    # survivors continue from where they paused; nothing is trained twice
    assert sorted(CALLS) == sorted(
        [(i, 0, 1) for i in range(9)] + [(1, 1, 3), (3, 1, 3), (8, 1, 3), (3, 3, 9)]
    )
    assert {i for i, r in by_row.items() if r.state is TrialState.PRUNED} == set(range(9)) - {3}
    assert by_row[3].state is TrialState.COMPLETE and by_row[3].val_loss == 0.1
    # a pruned trial keeps its curve so far, and its loss is the last point of it
    assert [s for s, _ in by_row[8].curve] == [10, 20, 30] and by_row[8].val_loss == 0.30
    assert [s for s, _ in by_row[0].curve] == [10] and by_row[0].steps == 10
    assert [r.state for _, r in records[:6]] == [TrialState.PRUNED] * 6  # stored as they stop


def test_a_trial_that_diverged_before_a_rung_does_not_count_there(tmp_path):
    records = fake_sweep(tmp_path, {**FAKE, 7: None})
    by_row = dict(records)
    assert by_row[7].state is TrialState.DIVERGED
    # 8 trials reached epoch 1: 8 // 3 = 2 go on (8, and 1 of the tie)
    assert sorted(i for i, _, to in CALLS if to == 3) == [1, 8]
    # 2 reached epoch 3: at least one goes on
    assert [i for i, _, to in CALLS if to == 9] == [8]
    states = [r.state for _, r in records]
    assert states.count(TrialState.PRUNED) == 7 and states.count(TrialState.COMPLETE) == 1


# -- real trials ----------------------------------------------------------------------------------


def pruned_round(path, executor, n: int = 9, epochs: int = 9) -> list:
    return Sweep(Study(path), TINY, SAFE_LR, n=n, seed=4, epochs=epochs, prune=True).run(executor)


def check_pruned_round(records) -> None:
    """9 trials of 9 epochs (5 steps each): 6 stop at epoch 1, 2 at epoch 3, 1 runs to 9; the
    ones that go on had the lowest loss at each rung; every curve is the unpruned run's."""
    states = [r.state for r in records]
    assert states.count(TrialState.PRUNED) == 8 and states.count(TrialState.COMPLETE) == 1
    assert sorted(r.steps for r in records) == [5] * 6 + [15] * 2 + [45]
    at_1 = sorted(records, key=lambda r: (r.curve[0][1], r.params["lr"]))
    assert all(r.steps > 5 for r in at_1[:3]) and all(r.steps == 5 for r in at_1[3:])
    at_3 = sorted(at_1[:3], key=lambda r: r.curve[2][1])
    assert at_3[0].state is TrialState.COMPLETE
    for r in records:  # resumed from checkpoints, bit for bit the same as never stopping
        full = run_trial(TrialSpec(apply_params(TINY, r.params).to_dict(), r.params, 9, 0))
        assert r.curve == full.curve[: len(r.curve)]
        assert [s for s, _ in r.curve] == [5 * (k + 1) for k in range(len(r.curve))]


def test_a_pruned_round_on_the_serial_executor(tmp_path):
    records = pruned_round(tmp_path / "s.sqlite", SerialExecutor())
    check_pruned_round(records)
    stored = Study(tmp_path / "s.sqlite").trials()
    assert [(t.state, t.curve) for t in stored] == [(r.state, r.curve) for r in records]
    d = sweep_json(Study(tmp_path / "s.sqlite"))
    assert [t["curve"] for t in d["trials"]] == [[list(p) for p in r.curve] for r in records]
    assert d["best"] == next(r.id for r in records if r.state is TrialState.COMPLETE)


def test_a_pruned_round_on_worker_processes_and_dask_matches_the_serial_one(tmp_path):
    """Checkpoints travel between workers: through a process pool and a Dask cluster."""
    with make_executor(2) as pool:
        pooled = pruned_round(tmp_path / "pool.sqlite", pool)
    check_pruned_round(pooled)
    with make_executor(2, scheduler="local") as dask:
        dasked = pruned_round(tmp_path / "dask.sqlite", dask)
    serial = pruned_round(tmp_path / "serial.sqlite", SerialExecutor())

    def outcome(records):
        return sorted((r.params["lr"], r.state, r.curve) for r in records)

    assert outcome(pooled) == outcome(serial) == outcome(dasked)


def test_27_trials_of_27_epochs_take_at_most_half_the_steps_and_the_best_beats_the_median(
    tmp_path,
):
    """The issue's acceptance figures (same samples, same seed), on 300 spirals and one hidden
    layer of 16 so the test stays cheap; README quotes them for a bigger setup."""
    base = TrainConfig(n_samples=300, hidden=(16,), batch_size=32, optimizer="momentum")
    rounds = {}
    for prune in (False, True):
        sweep = Sweep(Study(tmp_path / f"{prune}.sqlite"), base, list(DEFAULT_SPACES.values()),
                      n=27, epochs=27, seed=1, prune=prune)  # fmt: skip
        rounds[prune] = sweep.run(SerialExecutor())
    full, pruned = rounds[False], rounds[True]
    assert sorted(r.params["lr"] for r in full) == sorted(r.params["lr"] for r in pruned)
    assert sum(r.steps for r in pruned) <= 0.5 * sum(r.steps for r in full)
    # a trial with no loss (diverged) ranks worst in the median
    median = statistics.median(
        r.val_loss if r.state is TrialState.COMPLETE else math.inf for r in full
    )
    best = min(r.val_loss for r in pruned if r.state is TrialState.COMPLETE)
    assert best < median
