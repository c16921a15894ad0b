"""The trainer: learning, reproducibility, compare mode, babysitting, the BN toggle,
divergence, snapshots."""

from __future__ import annotations

import pickle
from dataclasses import replace

import numpy as np
import pytest

from bnviz.train.config import ConfigError, TrainConfig
from bnviz.train.trainer import BatchStream, Trainer


def train(config: TrainConfig, steps: int) -> Trainer:
    t = Trainer(config)
    t.run(steps)
    t.evaluate()
    return t


def test_spirals_with_three_arms_reach_90_percent():
    relu = dict(activation="relu", hidden=(64, 64), optimizer="adam", lr=0.01, batch_size=64)
    t = train(TrainConfig(dataset="spirals", n_classes=3, batchnorm=True, seed=1, **relu), 600)
    assert t.runs[0].evaluation.val_acc > 0.9
    t = train(TrainConfig(dataset="spirals", n_classes=3, batchnorm=False, seed=1, **relu), 600)
    assert t.runs[0].evaluation.val_acc > 0.9


def test_same_seed_gives_identical_curves():
    cfg = TrainConfig(compare=True, optimizer="momentum", lr=0.05, seed=5)
    a, b = Trainer(cfg), Trainer(cfg)
    la = [a.step() for _ in range(50)]
    lb = [b.step() for _ in range(50)]
    assert la == lb
    c = Trainer(TrainConfig(compare=True, optimizer="momentum", lr=0.05, seed=6))
    assert [c.step() for _ in range(50)] != la


def test_compare_mode_pairs_start_equal_and_see_the_same_batches():
    t = Trainer(TrainConfig(compare=True))
    bn, plain = (r.net for r in t.runs)
    assert bn.batchnorm and not plain.batchnorm
    np.testing.assert_array_equal(bn.params["W1"], plain.params["W1"])


def test_batch_stream_covers_each_epoch_once():
    s = BatchStream(10, seed=0)
    seen = np.concatenate([s.next(3) for _ in range(3)])
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 9
    assert s.epoch == 1  # the remainder of 1 cannot make a batch of 3
    assert len(s.next(5)) == 5 and len(s.next(50)) == 10


def test_hyperparameter_change_reaches_the_optimizer_next_step():
    t = Trainer(TrainConfig(optimizer="sgd", lr=0.01))
    t.run(3)
    t.set_hparams(lr=0.5, batch_size=16)
    assert t.runs[0].opt.hyper.lr == 0.5
    before = t.runs[0].net.flat_params.copy()
    t.step()
    np.testing.assert_allclose(
        t.runs[0].net.flat_params, before - 0.5 * t.runs[0].net.flat_grads, rtol=1e-5, atol=1e-7
    )
    snap = t.snapshot()[0]
    assert snap.batch_size == 16 and snap.events[-1].kind == "hparam"
    with pytest.raises(ConfigError, match="learning rate"):
        t.set_hparams(lr=-1)
    with pytest.raises(ConfigError, match="reset"):
        t.set_hparams(hidden=(3,))


def test_bn_toggle_keeps_the_loss_continuous():
    t = Trainer(TrainConfig(batchnorm=False, seed=2))
    t.run(100)
    X, y = t.last_batch
    assert not X.flags.writeable and len(X) == len(y) == t.batch_size
    before = t.runs[0].net.trace(X, mode="train")[1]
    t.set_batchnorm(True)
    after = t.runs[0].net.trace(X, mode="train")[1]
    np.testing.assert_allclose(after, before, atol=1e-4)
    assert t.runs[0].net.batchnorm and t.config.batchnorm
    t.run(50)
    p_before = t.runs[0].net.predict_proba(t._Xv)
    t.set_batchnorm(False)
    np.testing.assert_allclose(t.runs[0].net.predict_proba(t._Xv), p_before, atol=1e-5)
    kinds = [e.kind for e in t.snapshot()[0].events]
    assert kinds == ["bn_on", "bn_off"]


def test_divergence_is_caught_and_the_other_network_keeps_training():
    relu = dict(activation="relu", hidden=(64, 64), batch_size=64)
    t = Trainer(TrainConfig(compare=True, optimizer="sgd", lr=5.0, seed=0, **relu))
    for _ in range(200):
        t.step()  # must not raise
    bn, plain = t.runs
    assert plain.diverged_step is not None and "diverged" in plain.message
    assert bn.diverged_step is None
    res = t.evaluate()
    assert res[1] is None and np.isnan(t.metrics[-1]["val_loss"])
    snaps = t.snapshot()
    assert snaps[1].diverged and not snaps[0].diverged and snaps[1].layers == ()


def test_steps_stop_counting_once_every_network_diverged():
    t = Trainer(
        TrainConfig(batchnorm=False, optimizer="sgd", lr=20.0, activation="relu", hidden=(64, 64))
    )
    t.run(100)
    step = t.runs[0].diverged_step
    assert step is not None and t.step_count == step
    assert t.step() == [None] and t.step_count == step


def test_snapshot_is_immutable_picklable_and_complete():
    t = Trainer(TrainConfig(compare=True, hidden=(16, 8), activation="sigmoid"))
    t.run(20)
    t.evaluate()
    snaps = t.snapshot()
    s = pickle.loads(pickle.dumps(snaps[0]))
    assert s.step == 20 and len(s.losses) == 20 and len(s.layers) == 2
    layer = s.layers[0]
    for kind in ("z", "z_tilde", "a"):
        h = layer.hist[kind]
        assert len(h.edges) == len(h.counts) + 1 and h.counts.sum() == len(t.probe_batch) * 16
    assert layer.percentiles[0] <= layer.percentiles[1] <= layer.percentiles[2]
    assert 0 <= layer.saturated <= 1 and layer.gamma_mean is not None
    assert s.activation == "sigmoid" and s.saturation is not None and s.saturation.a[0] == 0.02
    assert s.shown_examples == len(s.evaluation.val_logits)
    np.testing.assert_array_equal(s.smoothed_losses[-1], s.smoothed_loss)
    assert s.evaluation.confusion.sum() == len(t.data.y_val)
    with pytest.raises(ValueError):
        snaps[0].losses[0] = 1.0
    # losses are handed over once
    assert len(t.snapshot()[0].losses) == 0


def test_histogram_edges_are_stable_between_snapshots():
    t = Trainer(TrainConfig(batchnorm=True))
    t.run(5)
    e1 = t.snapshot()[0].layers[0].hist["z_tilde"].edges
    t.run(5)
    e2 = t.snapshot()[0].layers[0].hist["z_tilde"].edges
    assert e1 is e2 or np.array_equal(e1, e2)


def test_bad_config_is_refused_with_its_name():
    with pytest.raises(ConfigError, match="batch size 1 with batch norm"):
        Trainer(TrainConfig(batch_size=1))
    with pytest.raises(ConfigError, match="activation"):
        Trainer(TrainConfig(activation="swish"))


def test_settings_file_round_trip(tmp_path):
    cfg = TrainConfig(hidden=(8, 4), lr=0.003, compare=True)
    cfg.save(tmp_path / "s.json")
    assert TrainConfig.load(tmp_path / "s.json") == cfg
    (tmp_path / "bad.json").write_text('{"bnviz_settings": 1, "lr": "fast"}')
    with pytest.raises(ConfigError, match="lr must be a number"):
        TrainConfig.load(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{")
    with pytest.raises(ConfigError, match="not a bnviz settings file"):
        TrainConfig.load(tmp_path / "junk.json")


def test_a_finite_loss_that_exploded_is_a_divergence():
    """lr 1e9 with Adam + BN spikes the loss to ~1e19 and then looks flat on a linear axis;
    plain SGD with sigmoid at lr 100 sits near 1,000 at chance accuracy. Neither is NaN."""
    spike = Trainer(TrainConfig(lr=1e4, n_samples=200, hidden=(16,)))  # alpha is at most 1e4
    spike.run(20)
    assert spike.runs[0].diverged_step is not None
    assert "loss exploded" in spike.runs[0].message
    stuck = Trainer(TrainConfig(optimizer="sgd", activation="sigmoid", lr=100.0,
                                batchnorm=False, n_samples=200, hidden=(16,)))  # fmt: skip
    stuck.run(200)
    assert "over 10x chance" in stuck.runs[0].message
    healthy = Trainer(TrainConfig(n_samples=200, hidden=(16,)))
    healthy.run(300)
    assert healthy.runs[0].diverged_step is None


def test_a_limited_evaluation_uses_a_fixed_subset_that_starts_with_the_shown_rows():
    from bnviz.train.trainer import SHOWN_EXAMPLES

    t = Trainer(TrainConfig(dataset="spirals", n_samples=20_000, hidden=(8,)))
    n_val = len(t.data.y_val)
    full = t.evaluate()[0]
    assert t.evaluated_rows == n_val > 3000
    t.limit_evaluation(3000)
    assert t.evaluated_rows == 3000
    rows = t._eval_rows.copy()
    np.testing.assert_array_equal(rows[:SHOWN_EXAMPLES], np.arange(SHOWN_EXAMPLES))
    assert len(np.unique(rows)) == 3000 and rows.max() < n_val
    part = t.evaluate()[0]
    assert part.confusion.sum() == 3000
    # The views index val_logits by validation row: the same rows as the full evaluation.
    np.testing.assert_allclose(part.val_logits, full.val_logits)
    t.limit_evaluation(3000)
    np.testing.assert_array_equal(t._eval_rows, rows)  # fixed: the same rows every time
    t.limit_evaluation(None)
    assert t.evaluated_rows == n_val


def test_batch_of_one_is_plain_sgd_and_never_batch_norm():
    """Defect 10: m = 1 is true SGD for a plain network. With BN, mu = z and sigma^2 = 0 over
    the one example, so z_norm = 0 for every input: refused, in every way it could come in."""
    plain = TrainConfig(batchnorm=False, batch_size=1, n_samples=100, hidden=(8,))
    t = Trainer(plain)
    t.run(200)
    assert t.step_count == 200 and t.batch_size == 1
    with pytest.raises(ConfigError, match="variance over one example is 0"):
        t.set_batchnorm(True)  # flipped on under a batch of one
    assert not t.runs[0].net.batchnorm
    t2 = Trainer(replace(plain, batch_size=8, batchnorm=True))
    with pytest.raises(ConfigError, match="variance over one example is 0"):
        t2.set_hparams(batch_size=1)
    assert t2.batch_size == 8
    for bad in (
        replace(plain, compare=True),  # BN vs plain: the BN twin
        replace(
            plain,
            batchnorm=True,
            batch_size=8,
            compare=True,
            compare_setting="batch_size",
            compare_value="1",
        ),  # fmt: skip
    ):
        with pytest.raises(ConfigError, match="variance over one example is 0"):
            bad.validated()
    assert replace(plain, hidden=(), batchnorm=True).validated().batch_size == 1  # no BN layer


def test_a_resumed_checkpoint_continues_bit_for_bit():
    """Stopped after 7 steps and resumed from its checkpoint (as a sweep does between rungs, in
    another process), a run matches one that never stopped: losses, weights, optimizer state,
    metrics. Compare mode and an epoch boundary inside the pause cover the shared stream."""
    cfg = TrainConfig(compare=True, optimizer="adam", lr=0.01, n_samples=200, batch_size=32)
    straight = Trainer(cfg)
    straight.run(7)
    straight.evaluate(outputs=False)
    losses = [straight.step() for _ in range(20)]
    paused = Trainer(cfg)
    paused.run(7)
    paused.evaluate(outputs=False)
    blob = paused.checkpoint()
    resumed = Trainer.resume(blob)
    assert [resumed.step() for _ in range(20)] == losses
    assert resumed.step_count == straight.step_count == 27
    assert resumed.epoch == straight.epoch == 27 * 32 // 160  # the pause sat in epoch 1
    for a, b in zip(resumed.runs, straight.runs):
        np.testing.assert_array_equal(a.net.flat_params, b.net.flat_params)
    resumed.evaluate(outputs=False)
    straight.evaluate(outputs=False)
    same = [{k: v for k, v in m.items() if k != "smoothed_loss"} for m in straight.metrics]
    assert [{k: v for k, v in m.items() if k != "smoothed_loss"} for m in resumed.metrics] == same
    paused.step()  # the original goes on alone: the resumed one shares none of its arrays
    again = Trainer.resume(blob).runs[0].net.flat_params
    assert not np.array_equal(paused.runs[0].net.flat_params, again)


def test_a_checkpoint_leaves_the_data_set_out():
    """The config rebuilds the data where the run resumes: a checkpoint of a small network on
    digits (1437 x 64 training inputs) is a fraction of the inputs' size."""
    t = Trainer(TrainConfig(dataset="digits", hidden=(8,), optimizer="momentum"))
    t.run(3)
    t.evaluate(outputs=False)
    assert len(t.checkpoint()) < t.data.X_train.nbytes / 5
    np.testing.assert_array_equal(Trainer.resume(t.checkpoint()).data.X_train, t.data.X_train)


def test_a_snapshot_may_carry_the_last_layer_statistics_of_the_same_network():
    trainer = Trainer(TrainConfig(n_samples=200, hidden=(8, 8)))
    trainer.run(3)
    first = trainer.snapshot()[0].layers
    trainer.run(20)
    assert trainer.snapshot(fresh_layers=False)[0].layers is first
    again = trainer.snapshot()[0].layers  # fresh: the network has moved on
    assert again is not first
    assert not np.array_equal(again[0].percentiles, first[0].percentiles)
    trainer.set_batchnorm(not trainer.config.batchnorm)  # another network: never carried
    assert trainer.snapshot(fresh_layers=False)[0].layers is not again


def test_labels_out_of_range_are_refused_when_the_trainer_is_built():
    from bnviz.data import Dataset

    X = np.zeros((8, 2), np.float32)
    y = np.array([0, 1, 2, 0, 1, 2, 0, 3])  # 3 is not a class of a 3-class set
    data = Dataset("bad", X, y, X[:2], y[:2], 3, np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match=r"0\.\.2, found 0\.\.3"):
        Trainer(TrainConfig(hidden=(4,), batch_size=4), data)


@pytest.mark.parametrize("n", [1, 7, 64, 1000, 13_003])
def test_all_finite_finds_any_nan_or_infinity(n):
    from bnviz.train.trainer import _all_finite

    v = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    with np.errstate(all="ignore"):  # as in a training step
        assert _all_finite(v)
        for where in {0, n // 2, n - 1}:  # the first, a middle and the last entry (a SIMD tail)
            for bad in (np.nan, np.inf, -np.inf):
                w = v.copy()
                w[where] = bad
                assert not _all_finite(w), (where, bad)
        both = v.copy()
        both[0], both[-1] = np.inf, -np.inf  # they cancel to NaN, not to a finite sum
        assert not _all_finite(both)
        # the sum overflows, every entry is finite
        assert _all_finite(np.full(n, 3e38, np.float32))
