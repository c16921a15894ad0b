"""Every hostile flag and file on the command line: exit 2 and one line naming it, never a
traceback; Ctrl-C exits 130 with one line. Most cases run main() in this process (the machine is
small); the ones about processes, signals and time run the CLI as a subprocess."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from bnviz.cli import main
from bnviz.search.executors import SerialExecutor
from bnviz.search.spaces import parse_space
from bnviz.search.study import Study
from bnviz.search.sweep import Sweep, TrialFailedWarning
from bnviz.train.config import TrainConfig
from tests.hostile_corpus import deep_json, header_only_npz, journal_state, settings_file

SWEEP = ["sweep", "--epochs", "1", "--samples", "50", "--workers", "1", "--quiet"]
REPO = Path(__file__).resolve().parent.parent


def refused(argv: list[str], capsys) -> str:
    """The one line of a refusal (exit 2); any traceback fails the test by itself."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    assert err.count("\n") == 1, err
    return err


@pytest.fixture
def files(tmp_path):
    header_only_npz(tmp_path / "huge.npz", {"X": (100_000, 64_424), "y": (100_000,)})
    settings_file(tmp_path / "deep.json", deep_json(100_000))
    settings_file(tmp_path / "h325.json", {"bnviz_settings": 1, "hidden": [32.5]})
    settings_file(tmp_path / "opt5.json", {"bnviz_settings": 1, "optimizer": 5})
    settings_file(tmp_path / "seed.json", {"bnviz_settings": 1, "seed": 1e30})
    settings_file(tmp_path / "future.json", {"bnviz_settings": 3})
    (tmp_path / "bad.csv").write_text("1,2,0\n3,x,1\n")
    c = sqlite3.connect(tmp_path / "idonly.sqlite")
    c.execute("PRAGMA application_id=0x626E767A")
    c.execute("CREATE TABLE notes (a)")
    c.commit()
    c.close()
    return tmp_path


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "--samples", "1000000000000"], "samples must be <= 1,000,000, got 1,000,000,"),
        (["train", "--epochs", "1000000000000"], "--epochs: epochs must be 1..100000"),
        (["train", "--steps", "99999999999"], "--steps: steps must be 1..10000000"),
        (["train", "--eval-every", "0"], "--eval-every: evaluation interval must be 1.."),
        (["train", "--lr", "1e300"], "--lr: learning rate must be <= 10,000, got 1e+300"),
        (["train", "--seed", "1e30"], "--seed: seed: expected a whole number"),
        (["train", "--memory-budget", "lots"], "--memory-budget: expected a size like 8G"),
        (["train", "--dataset", "{tmp}/huge.npz"], "huge.npz: its arrays"),
        (["train", "--settings", "{tmp}/deep.json"], "deep.json: nested 100001 levels deep"),
        (["train", "--settings", "{tmp}/h325.json"], "whole numbers, got 32.5"),
        (["train", "--settings", "{tmp}/opt5.json"], "optimizer must be one of sgd, momentum"),
        (["train", "--settings", "{tmp}/seed.json"], "seed must be 0..4294967295, got 1e+30"),
        (["train", "--settings", "{tmp}/future.json"], "written by a newer bnviz (version 3)"),
        (["train", "--save", "{tmp}"], "--save: {tmp}: is a folder"),
        (["train", "--metrics", "{tmp}/no/m.csv"], "--metrics: {tmp}/no/m.csv: folder"),
        (["--samples", "1000000000000"], "samples must be <= 1,000,000, got 1,000,000,"),
        (["--run-for", "1e9"], "--run-for: must be at most 86400 s (a day)"),
        (["--preset", "{tmp}/deep.json"], "deep.json: nested"),
        (["bench", "--rounds", "1000000000"], "--rounds: must be <= 1,000,000, got 1,000,000,000"),
        ([*SWEEP, "--scheduler", "not a url"], "'not a url' is not a Dask scheduler address"),
        ([*SWEEP, "--trials", "1000001"], "--trials: trials must be 0..1000000"),
        ([*SWEEP, "--workers", "0"], "--workers: workers must be 1..65536"),
        ([*SWEEP, "--lr", "1e-4:1e300:log"], "lr: learning rate must be <= 10,000, got 1e+300"),
        ([*SWEEP, "--timeout", "5"], "--timeout SECONDS is how long a Dask round waits"),
        ([*SWEEP, "--study", "{tmp}/idonly.sqlite"], "has bnviz's application id but no meta"),
        ([*SWEEP, "--study", "{tmp}/" + "n" * 255], "study name too long (255 bytes"),
        ([*SWEEP, "--study", "/dev/null"], "/dev/null: is a device"),
    ],
)  # fmt: skip
def test_a_hostile_flag_or_file_is_one_line_and_exit_2(files, capsys, argv, words):
    journal = journal_state()
    err = refused([a.replace("{tmp}", str(files)) for a in argv], capsys)
    assert words.replace("{tmp}", str(files)) in err
    assert journal_state() == journal  # no /dev/null-journal made or touched


def test_an_optuna_storage_on_a_device_is_refused_before_sqlalchemy(tmp_path, capsys):
    pytest.importorskip("optuna")
    Study(tmp_path / "s.sqlite").close()
    journal = journal_state()
    err = refused([*SWEEP, "--trials", "0", "--study", str(tmp_path / "s.sqlite"),
                   "--export-optuna", "sqlite:////dev/null"], capsys)  # fmt: skip
    assert "cannot use the Optuna storage sqlite:////dev/null: /dev/null: is a device" in err
    assert journal_state() == journal


@pytest.mark.parametrize("dataset, words", [("nope.csv", "nope.csv: file not found"),
                                            ("bad.csv", "bad.csv: row 2, column 2")])  # fmt: skip
def test_sweep_checks_its_data_file_before_the_round(files, capsys, dataset, words):
    study = files / "s.sqlite"
    err = refused([*SWEEP, "--dataset", str(files / dataset), "--study", str(study)], capsys)
    assert "--dataset: " in err and words in err
    assert not study.exists()  # no round, no failed trials, no empty study left behind


def failing_segment(spec, until, paused):
    raise RuntimeError("the worker broke")


def test_failed_trials_are_named_by_their_stored_ids(tmp_path):
    study = Study(tmp_path / "s.sqlite")

    def round_() -> Sweep:
        return Sweep(study, TrainConfig(), [parse_space("lr", "1e-3:1:log")], n=2, epochs=1,
                     segment=failing_segment)  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        round_().run(SerialExecutor())  # a first round: ids 1 and 2
    sweep = round_()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sweep.run(SerialExecutor())
    said = [str(w.message).split()[1] for w in caught if w.category is TrialFailedWarning]
    assert said == ["3", "4"]  # the study's ids, not the round's 0 and 1
    assert [t.id for t in study.trials(sweep.round_id)] == [3, 4]


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    # PYTHONFAULTHANDLER: a hung command's stacks are dumped by SIGABRT (_communicate)
    env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO), "PYTHONFAULTHANDLER": "1"}
    pipe = subprocess.PIPE
    command = [sys.executable, "-m", "bnviz", *args]
    return subprocess.Popen(command, cwd=REPO, env=env, stdout=pipe, stderr=pipe, text=True)


def _children(pid: int) -> set[int]:
    out = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.add(int(stat.parent.name))
    return out


def _communicate(p: subprocess.Popen, timeout: float = 60) -> tuple[str, str]:
    """The command's output; one that has not ended by ``timeout`` fails the test with its
    threads' stacks and its children (a hang is then diagnosable from the CI log)."""
    try:
        return p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        children = {pid: _status(pid) for pid in _children(p.pid)}
        p.send_signal(signal.SIGABRT)
        try:
            out, err = p.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
        pytest.fail(f"no exit within {timeout:g} s; children {children}; stderr:\n{err}")


def _status(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].split("\n")[0].strip()
    except (OSError, IndexError):
        return "?"


def _trials(path: Path) -> int:
    try:
        with sqlite3.connect(path) as c:
            return c.execute("SELECT count(*) FROM trials").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_million_trials_start_at_once_and_ctrl_c_exits_130(tmp_path):
    study = tmp_path / "big.sqlite"
    p = _run([*SWEEP, "--trials", "1000000", "--study", str(study)])
    deadline = time.monotonic() + 120  # a generous bound for a loaded machine, not a timing
    while _trials(study) == 0 and time.monotonic() < deadline and p.poll() is None:
        time.sleep(0.2)
    assert _trials(study) > 0
    p.send_signal(signal.SIGINT)
    try:
        out, err = _communicate(p)
    finally:
        p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.rstrip().splitlines()[-1].startswith("cancelled: ")


def test_ctrl_c_while_the_round_is_prepared_exits_130_with_one_line(tmp_path):
    study = tmp_path / "s.sqlite"
    p = _run([*SWEEP[:-3], "--workers", "2", "--trials", "1000000", "--study", str(study)])
    while not study.exists() and p.poll() is None:  # main() runs: the study is opened
        time.sleep(0.01)
    p.send_signal(signal.SIGINT)  # building the round, starting the workers
    try:
        out, err = _communicate(p)
    finally:
        p.kill()
    assert p.returncode == 130, err
    last = err.strip().splitlines()[-1]  # a loaded machine may already be running the round
    assert "Traceback" not in err, err
    assert last == "bnviz: cancelled (Ctrl-C)" or last.startswith("cancelled: "), err


def test_ten_thousand_workers_for_two_trials_start_two_processes(tmp_path):
    p = _run([*SWEEP[:-3], "--workers", "10000", "--trials", "2", "--study",
              str(tmp_path / "s.sqlite"), "--json"])  # fmt: skip
    most = 0
    while p.poll() is None:
        most = max(most, len(_children(p.pid)))
        time.sleep(0.05)
    out, err = p.communicate()
    assert p.returncode == 0, err
    assert "--workers 10000: starting 2" in err
    assert most <= 3  # 2 workers and multiprocessing's resource tracker
    assert len(json.loads(out)["trials"]) == 2


HOSTILE_VALUES = ["-1", "0", "1e999", "nan", "inf", "-inf", "9" * 5000, "", " ", "1e30", "0x10",
                  "\uff12", "1e-400", "\x00", "-0", "a\x00.json"]  # fmt: skip


def test_every_flag_of_every_command_takes_hostile_values_without_a_traceback():
    """Each flag of each command is parsed with each hostile value, and the training settings
    built from it: a refusal is SystemExit with one line, or a ConfigError; nothing else."""
    import argparse
    import contextlib
    import io

    from bnviz.cli import build_parser, config_from_args
    from bnviz.train.config import ConfigError

    parser = build_parser()
    commands: dict[str | None, argparse.ArgumentParser] = {None: parser}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            commands.update(action.choices)
    tried = 0
    for name, sub in commands.items():
        for action in sub._actions:
            if not action.option_strings or action.nargs == 0:
                continue
            for value in HOSTILE_VALUES:
                argv = [*([name] if name else []), action.option_strings[-1], value]
                err = io.StringIO()
                tried += 1
                try:
                    with contextlib.redirect_stderr(err):
                        args = parser.parse_args(argv)
                        if name in (None, "train"):
                            config_from_args(args)
                except SystemExit:
                    assert err.getvalue().count("\n") == 1, (argv, err.getvalue())
                except ConfigError as e:
                    assert "\n" not in str(e)
    assert tried > 1000


def test_ctrl_c_in_train_keeps_what_was_trained(tmp_path, monkeypatch, capsys):
    from bnviz.train.trainer import Trainer

    step = Trainer.step

    def interrupted(self):
        if self.step_count == 30:
            raise KeyboardInterrupt
        return step(self)

    monkeypatch.setattr(Trainer, "step", interrupted)
    metrics, model = tmp_path / "m.csv", tmp_path / "m.npz"
    rc = main(["train", "--samples", "100", "--hidden", "8", "--epochs", "1000", "--quiet",
               "--metrics", str(metrics), "--save", str(model)])  # fmt: skip
    out, err = capsys.readouterr()
    assert rc == 130 and "cancelled at step 30 of" in err
    assert metrics.read_text().count("\n") >= 2 and model.exists()
    assert "30 steps" in out


def test_ctrl_c_closes_the_window_and_exits_130(tmp_path):
    """Once the window trains (its training process is a child), Ctrl-C closes it as Quit
    does: one line, status 130, no KeyboardInterrupt traceback from a Qt slot."""
    env = {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    p = _run(["--samples", "100", "--hidden", "8"], env)
    deadline = time.monotonic() + 120  # a bound for a loaded machine, not a timing
    while not _children(p.pid) and p.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    try:
        out, err = _communicate(p)
    finally:
        p.kill()
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.strip().splitlines()[-1] == "bnviz: cancelled (Ctrl-C)"


def test_a_study_that_stops_taking_trials_ends_the_round_with_one_line(tmp_path, monkeypatch,
                                                                       capsys):  # fmt: skip
    from bnviz.search.study import StudyError

    add = Study.add_trial

    def add_then_lock(self, round_id, result, **kwargs):
        if self.trials():
            raise StudyError(f"{self.path.name} cannot be written (database is locked)")
        return add(self, round_id, result, **kwargs)

    monkeypatch.setattr(Study, "add_trial", add_then_lock)
    rc = main([*SWEEP, "--trials", "3", "--study", str(tmp_path / "s.sqlite")])
    err = capsys.readouterr().err
    assert rc == 1
    assert "s.sqlite cannot be written (database is locked) (1 of 3 trials stored)" in err
    assert "Traceback" not in err


def test_a_model_that_cannot_be_written_after_training_is_one_line(tmp_path, monkeypatch,
                                                                   capsys):  # fmt: skip
    import numpy as np

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "m.npz"))

    monkeypatch.setattr(np, "savez", full_disk)
    rc = main(["train", "--samples", "100", "--hidden", "8", "--steps", "5", "--quiet",
               "--save", str(tmp_path / "m.npz")])  # fmt: skip
    out, err = capsys.readouterr()
    assert rc == 1 and "5 steps" in out  # the summary still comes
    assert err == f"bnviz train: cannot write {tmp_path / 'm.npz'}: No space left on device\n"
