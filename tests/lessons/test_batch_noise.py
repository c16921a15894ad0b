"""Noise that regularizes: the spread of BN's batch statistics follows the sampling law, the
experiment trains what it says, bad sizes are refused before anything runs."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from bnviz.lessons.batch_noise import (
    check_batch_sizes,
    noise_experiment,
    statistic_spread,
    train_noise_job,
)
from bnviz.nn.network import MLP
from bnviz.train.config import ConfigError, TrainConfig

SMALL = TrainConfig(n_samples=200, hidden=(8, 8))


@pytest.mark.parametrize("b", [4, 16, 64])
def test_the_spread_of_the_batch_mean_follows_one_over_sqrt_b(b):
    """Sampling b of N rows without replacement: sd(mean_b) = sigma sqrt((N - b) / (N - 1)) /
    sqrt(b), so mu_spread (sd over batches / sigma) must come out at that, unit by unit."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 3))
    net = MLP([3, 6, 2], batchnorm=True, seed=1, dtype=np.float64)
    params, bufs = net.flat_params.copy(), net.flat_buffers.copy()
    mu_spread, var_spread = statistic_spread(net, X, b, batches=4000, seed=2)
    expected = math.sqrt((1000 - b) / 999) / math.sqrt(b)
    assert mu_spread == pytest.approx(expected, rel=0.06)
    # For Gaussian z the batch variance's sd is about sigma^2 sqrt(2 / b).
    assert var_spread == pytest.approx(math.sqrt(2 / b), rel=0.25)
    np.testing.assert_array_equal(params, net.flat_params)
    np.testing.assert_array_equal(bufs, net.flat_buffers)


def test_a_job_trains_the_stated_steps_and_measures_eval_mode():
    r = train_noise_job(SMALL, batch_size=16, batchnorm=True, epochs=2)
    n_train = 160  # SMALL keeps 80% of its 200 rows for training
    assert r.batchnorm and r.batch_size == 16
    assert r.steps == 2 * math.ceil(n_train / 16)
    assert 0 <= r.train_acc <= 1 and 0 <= r.val_acc <= 1 and not r.diverged
    assert r.gap == pytest.approx(r.val_loss - r.train_loss)
    plain = train_noise_job(SMALL, batch_size=16, batchnorm=False, epochs=2)
    assert not plain.batchnorm and plain.train_loss != r.train_loss


def test_the_experiment_runs_every_size_with_and_without_bn_on_an_executor():
    with ThreadPoolExecutor(2) as ex:
        futures = noise_experiment(SMALL, batch_sizes=(32, 8), epochs=1, executor=ex, n_train=160)
        results = [f.result() for f in futures]
    assert [(r.batch_size, r.batchnorm) for r in results] == [
        (8, True), (8, False), (32, True), (32, False)
    ]  # fmt: skip
    assert results[0].mu_spread > results[2].mu_spread  # smaller batch, noisier statistics


@pytest.mark.parametrize(
    ("sizes", "words"),
    [((), "at least one"), ((1, 8), "variance over one example"), ((8, 5000), "larger than")],
)
def test_bad_sizes_are_refused_before_anything_runs(sizes, words):
    with pytest.raises(ConfigError, match=words):
        noise_experiment(SMALL, batch_sizes=sizes, epochs=1)


def test_sizes_are_sorted_and_deduplicated():
    assert check_batch_sizes([32, 8, 32]) == (8, 32)
    with pytest.raises(ConfigError, match="epochs"):
        noise_experiment(SMALL, epochs=0)
