"""A study file exactly as the first release (study schema 1, no trial states) wrote it.

The SQL below is copied from that release's ``bnviz/core/study.py`` (commit d04358d): its
``_SCHEMA``, the pragmas and transaction of ``Study._init_schema``, and the INSERTs that
``Study.set_meta``, ``Study.new_round`` and ``Study.add_trial`` issued (``_insert`` lists the
columns in keyword order: ``round, params, diverged, diverged_step, steps, curve, finished_at``
and then the float fields). Do not build this file with the current code: it is what users'
disks hold, and must stay so when the code moves on.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

APPLICATION_ID = 0x626E767A

SCHEMA_1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE rounds (
    id INTEGER PRIMARY KEY AUTOINCREMENT, spaces TEXT NOT NULL, box TEXT, fixed TEXT,
    method TEXT NOT NULL, n INTEGER NOT NULL, seed INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE trials (
    id INTEGER PRIMARY KEY AUTOINCREMENT, round INTEGER NOT NULL REFERENCES rounds(id),
    params TEXT NOT NULL, val_loss REAL, val_acc REAL, best_val_loss REAL, best_val_acc REAL,
    diverged INTEGER NOT NULL, diverged_step INTEGER, seconds REAL, steps INTEGER NOT NULL,
    curve TEXT NOT NULL, finished_at TEXT NOT NULL);
CREATE INDEX trials_round ON trials(round);
"""

INSERT_META = (
    "INSERT INTO meta(key, value) VALUES (?, ?) "
    "ON CONFLICT(key) DO UPDATE SET value = excluded.value"
)
INSERT_ROUND = (
    "INSERT INTO rounds(spaces, box, fixed, method, n, seed, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)"
)
INSERT_TRIAL = (
    "INSERT INTO trials(round, params, diverged, diverged_step, steps, curve, finished_at, "
    "val_loss, val_acc, best_val_loss, best_val_acc, seconds) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)

CONFIG = {
    "dataset": "spirals", "n_classes": 3, "noise": 0.1, "n_samples": 100, "val_fraction": 0.2,
    "hidden": [8], "activation": "relu", "batchnorm": True, "compare": False,
    "optimizer": "momentum", "lr": 0.01, "momentum": 0.9, "beta2": 0.999, "lr_decay": 0.0,
    "batch_size": 64, "bn_momentum": 0.9, "eps": 1e-05, "seed": 0,
}  # fmt: skip
SPACES_JSON = (
    '[{"name": "lr", "kind": "log", "low": 0.0001, "high": 1.0, "choices": []}, '
    '{"name": "beta", "kind": "1m", "low": 0.9, "high": 0.999, "choices": []}]'
)
ROUNDS = [
    # spaces, box, fixed, method, n, seed, created_at
    (SPACES_JSON, None, json.dumps(CONFIG), "random", 3, 0, "2025-01-10T09:00:00+00:00"),
    (SPACES_JSON, '{"lr": [-3.0, -1.0]}', json.dumps(CONFIG), "random", 2, 1,
     "2025-01-10T09:05:00+00:00"),
]  # fmt: skip
# One row per trial, as add_trial stored them: NaN as the text 'NaN' in REAL columns and as
# Python's NaN extension in the curve; a failed trial (its worker raised) as failed_result made
# it: diverged, no step, no training, no losses.
TRIALS = [
    dict(round=1, params='{"lr": 0.01, "beta": 0.95}', diverged=0, diverged_step=None,
         steps=140, curve="[1.0, 0.5, 0.31]", finished_at="2025-01-10T09:01:00+00:00",
         val_loss=0.31, val_acc=0.9, best_val_loss=0.3, best_val_acc=0.92, seconds=1.25),
    dict(round=1, params='{"lr": 0.9, "beta": 0.99}', diverged=1, diverged_step=17,
         steps=17, curve="[1.1, NaN]", finished_at="2025-01-10T09:01:01+00:00",
         val_loss="NaN", val_acc=0.33, best_val_loss=1.1, best_val_acc=0.4, seconds=0.4),
    dict(round=1, params='{"lr": 0.5, "beta": 0.9}', diverged=1, diverged_step=None,
         steps=0, curve="[]", finished_at="2025-01-10T09:01:02+00:00",
         val_loss=None, val_acc=None, best_val_loss=None, best_val_acc=None, seconds=0.0),
    dict(round=2, params='{"lr": 0.02, "beta": 0.97}', diverged=0, diverged_step=None,
         steps=140, curve="[0.9, 0.25]", finished_at="2025-01-10T09:06:00+00:00",
         val_loss=0.25, val_acc=0.91, best_val_loss=0.25, best_val_acc=0.91, seconds=1.5),
    dict(round=2, params='{"lr": 0.05, "beta": 0.98}', diverged=0, diverged_step=None,
         steps=140, curve="[0.9, 0.4]", finished_at="2025-01-10T09:06:01+00:00",
         val_loss=0.4, val_acc=0.95, best_val_loss=0.35, best_val_acc=0.95, seconds=1.75),
]  # fmt: skip
# What each row is, read by a bnviz that knows trial states.
STATES = ["complete", "diverged", "failed", "complete", "complete"]


def write_schema1_study(path: Path) -> None:
    """Create ``path`` as the first release did, and fill it with ROUNDS and TRIALS."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("BEGIN IMMEDIATE")
    for statement in SCHEMA_1.split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=1")
    conn.execute("COMMIT")
    # every write in its own transaction, as Study._write did
    writes = [(INSERT_META, ("config", json.dumps(CONFIG)))]
    writes += [(INSERT_ROUND, r) for r in ROUNDS]
    writes += [(INSERT_TRIAL, tuple(t.values())) for t in TRIALS]
    for sql, args in writes:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(sql, args)
        conn.execute("COMMIT")
    conn.close()


def insert_trial_as_first_release(path: Path, **row: object) -> None:
    """What a first-release process that still has the file open writes into it."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(INSERT_TRIAL, tuple({**TRIALS[0], **row}.values()))
    conn.close()
