"""Flushing subnormals: a subnormal float32 product becomes 0 in the training thread, normal
arithmetic (rounding to nearest) is untouched, and the mode can be put back."""

from __future__ import annotations

import platform
import threading

import numpy as np
import pytest

from bnviz.nn import fpenv

KNOWN = platform.machine().lower() in ("x86_64", "amd64", "aarch64", "arm64")
TINY = np.finfo(np.float32).tiny  # the smallest normal float32, 1.2e-38


def subnormal_product() -> float:
    return float((np.array([TINY], np.float32) * np.float32(0.25))[0])


@pytest.fixture
def restore_mode():
    before = fpenv.subnormals_flushed()
    yield
    fpenv.set_subnormals_flushed(before)


@pytest.mark.skipif(not KNOWN, reason="fenv_t layout known for x86-64 and ARM64 only")
def test_flush_makes_a_subnormal_product_zero_and_can_be_undone(restore_mode):
    assert fpenv.set_subnormals_flushed(False)
    assert subnormal_product() == pytest.approx(TINY / 4)  # kept: 2.9e-39, a subnormal
    assert fpenv.set_subnormals_flushed(True)
    assert subnormal_product() == 0.0
    # normal numbers round as before: 1 + 2^-24 ties to 1, 1 + 3 * 2^-24 rounds up
    one = np.ones(1, np.float32)
    assert (one + np.float32(2.0**-24))[0] == 1.0
    assert (one + np.float32(3 * 2.0**-24))[0] == np.float32(1 + 2.0**-22)
    assert float((np.array([TINY * 4], np.float32) * np.float32(0.25))[0]) == TINY
    assert fpenv.set_subnormals_flushed(False)
    assert subnormal_product() > 0


@pytest.mark.skipif(not KNOWN, reason="fenv_t layout known for x86-64 and ARM64 only")
def test_the_mode_is_the_calling_threads(restore_mode):
    fpenv.set_subnormals_flushed(False)
    seen: list[bool] = []

    def other() -> None:
        fpenv.set_subnormals_flushed(True)
        seen.append(fpenv.subnormals_flushed())

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == [True]
    assert not fpenv.subnormals_flushed()


@pytest.mark.skipif(not KNOWN, reason="fenv_t layout known for x86-64 and ARM64 only")
def test_flushed_is_scoped_to_its_block(restore_mode):
    fpenv.set_subnormals_flushed(False)
    with fpenv.flushed():
        assert subnormal_product() == 0.0
    assert subnormal_product() > 0  # the caller's IEEE arithmetic is back
    fpenv.set_subnormals_flushed(True)
    with fpenv.flushed():
        pass
    assert fpenv.subnormals_flushed()  # a mode already on stays on


@pytest.mark.skipif(not KNOWN, reason="fenv_t layout known for x86-64 and ARM64 only")
def test_a_trainer_steps_flushed_and_leaves_the_callers_mode(monkeypatch, restore_mode):
    from bnviz.train import trainer as trainer_module
    from bnviz.train.config import TrainConfig

    seen: list[bool] = []
    original = trainer_module.Run.train_step

    def spy(self, *args):
        seen.append(fpenv.subnormals_flushed())
        return original(self, *args)

    monkeypatch.setattr(trainer_module.Run, "train_step", spy)
    fpenv.set_subnormals_flushed(False)
    trainer = trainer_module.Trainer(TrainConfig(n_samples=200))
    trainer.run(2)
    assert seen == [True, True]
    assert not fpenv.subnormals_flushed()
    assert float(np.float64(5e-324) * 1.0) > 0  # a notebook's arithmetic is untouched
    monkeypatch.setenv(fpenv.DENORMALS_ENV, "keep")
    trainer.run(1)
    assert seen[-1] is False


@pytest.mark.skipif(not KNOWN, reason="fenv_t layout known for x86-64 and ARM64 only")
def test_a_held_block_keeps_nested_blocks_from_switching(restore_mode):
    fpenv.set_subnormals_flushed(False)
    with fpenv.flushed(hold=True):
        with fpenv.flushed():
            assert subnormal_product() == 0.0
        assert subnormal_product() == 0.0  # the nested block left the held mode alone
    assert subnormal_product() > 0


def test_bnviz_train_leaves_the_callers_mode(tmp_path, restore_mode):
    from bnviz.cli import main

    fpenv.set_subnormals_flushed(False)
    assert main(["train", "--steps", "5", "--quiet", "--samples", "200"]) == 0
    assert fpenv.subnormals_flushed() is False
