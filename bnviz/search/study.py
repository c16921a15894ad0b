"""Study storage: one SQLite file per hyperparameter study, so nothing is lost.

Each finished trial is committed in its own transaction the moment it is added, in WAL mode
with ``synchronous=FULL``; killing the process loses only the trials still in flight.

Every trial has a :class:`TrialState`: ``complete``, ``diverged``, ``failed`` (the worker
raised; its one-line reason is kept) or ``pruned`` (stopped early by a scheduler such as
successive halving). Schema 1, written by the first release, had no state; schema 2 had no
``recheck_of`` (the trial a re-check repeats); schema 3 had no ``kind`` (``sampled`` by a
round, or ``babysat``: a live run the user steered and saved); schema 4 had no ``bracket``
(Hyperband's), no ``pruned_at`` (why a pruned trial stopped), no ``group_id`` and ``seed``
(``--repeats``: a configuration trained with several seeds); opening an older file migrates
it in place to schema 5 (see :data:`_MIGRATIONS`). Trials pruned before schema 5 keep a null
``pruned_at``: their rung's ranking was not recorded.

A trial's ``curve`` is its validation loss at every evaluation, ``[[step, val_loss], ...]``
in the JSON column. Files written before curves had steps hold ``[val_loss, ...]``, one per
epoch; they read back as pairs whose steps are spread evenly over the trial's ``steps``
(exact for a trial that ran its whole budget, an estimate for one that diverged).

Floats: SQLite turns NaN into NULL, which would make "diverged to NaN" look like "never
evaluated". Metric columns therefore hold NULL for ``None``, a REAL for finite values and
+-inf, and the text ``'NaN'`` for NaN; JSON columns (params, curve) use Python's ``NaN`` /
``Infinity`` extension. Both read back exactly.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sqlite3
import sys
import threading
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from bnviz.search.spaces import Space

SCHEMA_VERSION = 5
# PRAGMA application_id tells a bnviz study from any other SQLite file ("bnvz" in ASCII).
APPLICATION_ID = 0x626E767A
BUSY_TIMEOUT_S = 30.0
METRICS = {"val_loss": min, "val_acc": max, "best_val_loss": min, "best_val_acc": max}
_FLOAT_FIELDS = ("val_loss", "val_acc", "best_val_loss", "best_val_acc", "seconds")
ERROR_CHARS = 300  # a failed trial's reason is one line of at most this many characters
LEGACY_FAILED_REASON = "failed (recorded before trial states)"

# Schema 1, as the first release created it. A new file gets it and then every migration,
# so new and migrated files have one layout.
_SCHEMA = """
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

# A trial without a state (schema 1, or a row a first-release process is still inserting into
# a migrated file) has one by its diverged flag. The first release stored a trial whose worker
# raised as diverged with no step and no training; a run that really diverged always has its
# step. So those rows are unambiguous and read as failed, with LEGACY_FAILED_REASON.
_LEGACY_FAILED = "(diverged <> 0 AND diverged_step IS NULL AND steps = 0)"
_LEGACY_STATE = (
    f"CASE WHEN {_LEGACY_FAILED} THEN 'failed' WHEN diverged <> 0 THEN 'diverged' "
    "ELSE 'complete' END"
)
_LEGACY_ERROR = f"CASE WHEN {_LEGACY_FAILED} THEN '{LEGACY_FAILED_REASON}' END"

# user_version -> the statements that bring a file from user_version - 1 to it, run in the
# transaction that sets user_version (all or nothing). Only columns are added and filled:
# every column of schema 1 keeps its values, so no result of an old study is lost.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE trials ADD COLUMN state TEXT",
        "ALTER TABLE trials ADD COLUMN error TEXT",
        f"UPDATE trials SET state = {_LEGACY_STATE}, error = {_LEGACY_ERROR}",
    ),
    3: ("ALTER TABLE trials ADD COLUMN recheck_of INTEGER REFERENCES trials(id)",),
    # every trial stored before kinds was sampled by a round
    4: ("ALTER TABLE trials ADD COLUMN kind TEXT NOT NULL DEFAULT 'sampled'",),
    5: (
        "ALTER TABLE trials ADD COLUMN bracket INTEGER",
        "ALTER TABLE trials ADD COLUMN pruned_at TEXT",
        "ALTER TABLE trials ADD COLUMN group_id INTEGER REFERENCES trials(id)",
        "ALTER TABLE trials ADD COLUMN seed INTEGER",
    ),
}
# How a stored trial is read: a NULL state (see above) is derived as the migration does.
_COLUMN_SQL = {
    "state": f"COALESCE(state, {_LEGACY_STATE})",
    "error": f"CASE WHEN state IS NULL THEN {_LEGACY_ERROR} ELSE error END",
    "group": "group_id",  # GROUP is an SQL keyword
}


class StudyError(ValueError):
    """A file that cannot be used as a study, with a message naming it."""


def default_study_dir() -> Path:
    """The per-user directory for study files, created on demand.

    ``$XDG_DATA_HOME/bnviz/studies`` (default ``~/.local/share``) on Linux,
    ``~/Library/Application Support/bnviz/studies`` on macOS, ``%APPDATA%\\bnviz\\studies``
    on Windows: studies are user data, not cache, and must survive reinstalls.
    """
    if sys.platform == "win32":
        base = Path(os.environ.get("APPDATA") or Path.home() / "AppData" / "Roaming")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    path = base / "bnviz" / "studies"
    path.mkdir(parents=True, exist_ok=True)
    return path


class TrialState(str, Enum):
    """How a trial ended. A ``str``, so it compares equal to its value and goes into JSON."""

    COMPLETE = "complete"  # trained for its whole budget
    DIVERGED = "diverged"  # its loss or parameters stopped being finite (at diverged_step)
    FAILED = "failed"  # its worker raised: no result, only the reason (``error``)
    PRUNED = "pruned"  # stopped early by a scheduler (successive halving): a partial result

    def __str__(self) -> str:
        return self.value


CurvePoint = tuple[int, float]  # (step, val_loss) at one evaluation
# How a trial came to be: sampled by a round (caviar), or a live run steered by hand and saved
# (panda: "Save babysat run to study").
TRIAL_KINDS = ("sampled", "babysat")


def one_line(text: str, limit: int = ERROR_CHARS) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


@dataclasses.dataclass(frozen=True)
class TrialResult:
    """What one trial produced; picklable, so worker processes can return it.

    ``val_loss``/``val_acc`` are None (or NaN) if the run diverged before any evaluation;
    ``curve`` is ``(step, val_loss)`` at every evaluation (each epoch), steps ascending, its
    last loss the trial's ``val_loss``: the learning curve, kept for pruned trials too.

    ``state`` defaults to ``diverged`` or ``complete`` by ``diverged``; ``diverged`` is true
    exactly when the state is ``diverged`` (a failed trial did not diverge: it has no result).
    ``error`` is a failed trial's one-line reason and None for every other state.
    ``recheck_of`` is the id of the trial this one repeats with the same sampled values
    (``bnviz sweep --recheck``), else None. ``kind`` is one of :data:`TRIAL_KINDS`.
    ``bracket`` is the Hyperband bracket ``s`` the trial ran in (None outside Hyperband).
    ``pruned_at`` says why a pruned trial stopped (:func:`bnviz.search.halving.cut`:
    ``{"epochs", "value", "rank", "of", "kept"}``); None for every other state, and for trials
    pruned before it was recorded. ``group`` is the id of the first stored trial of the
    trial's group of repeats (the same sampled values trained with seeds ``seed``, ``seed + 1``
    ...; None outside ``--repeats``); ``seed`` the training seed it ran with (None: not
    recorded, trials stored before schema 5).
    """

    params: dict
    val_loss: float | None
    val_acc: float | None
    best_val_loss: float | None
    best_val_acc: float | None
    diverged: bool
    diverged_step: int | None
    seconds: float
    steps: int
    curve: tuple[CurvePoint, ...] = ()
    state: TrialState = None  # type: ignore[assignment]  # filled in by __post_init__
    error: str | None = None
    recheck_of: int | None = None
    kind: str = "sampled"
    bracket: int | None = None
    pruned_at: dict | None = None
    group: int | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in TRIAL_KINDS:
            raise ValueError(f"unknown trial kind {self.kind!r}; one of {', '.join(TRIAL_KINDS)}")
        if self.state is None:
            state = TrialState.DIVERGED if self.diverged else TrialState.COMPLETE
        else:
            state = TrialState(self.state)  # a plain "failed" is accepted, and checked
        object.__setattr__(self, "state", state)
        if bool(self.diverged) != (state is TrialState.DIVERGED):
            raise ValueError(f"a {state} trial has diverged={self.diverged}")
        if (state is TrialState.FAILED) != bool(self.error):
            raise ValueError(
                "a failed trial needs its reason (error)"
                if state is TrialState.FAILED
                else f"a {state} trial has no error, got {self.error!r}"
            )
        if self.error is not None:
            object.__setattr__(self, "error", one_line(self.error))
        if self.pruned_at is not None and state is not TrialState.PRUNED:
            raise ValueError(f"a {state} trial has pruned_at {self.pruned_at!r}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TrialRecord(TrialResult):
    """A stored trial as read back: the result plus its id, round and finish time (UTC ISO)."""

    id: int
    round: int
    finished_at: str


_RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(TrialRecord))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _json_default(obj: Any) -> Any:
    """Let NumPy scalars and arrays and tuples of them into JSON columns."""
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON-serializable")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, default=_json_default)


def _float_in(x: float | None) -> float | str | None:
    """NaN as text, since SQLite would store it as NULL (indistinguishable from None)."""
    if x is None:
        return None
    x = float(x)
    return "NaN" if math.isnan(x) else x


def _float_out(x: float | str | None) -> float | None:
    return None if x is None else float(x)


def _curve_out(points: list, steps: int) -> tuple[CurvePoint, ...]:
    """A stored curve as ``(step, val_loss)`` pairs; an old one (losses only, one per epoch)
    gets steps spread evenly over the trial's ``steps``."""
    n = len(points)
    return tuple(
        (int(p[0]), float(p[1])) if isinstance(p, list) else (round(steps * (i + 1) / n), float(p))
        for i, p in enumerate(points)
    )


class Study:
    """One study file: its fixed config (meta), its rounds of sampling and their trials.

    Each ``Study`` holds its own connection, guarded by a lock so it may be shared between
    threads; other processes should open their own ``Study`` on the same path (SQLite's busy
    timeout serializes writers).

    Parameters
    ----------
    path : str or Path
        Created with its parent directories if missing.

    Raises
    ------
    StudyError
        The file is not a SQLite database, belongs to another application, or was written
        by a newer bnviz.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            raise StudyError(f"{self.path.name} cannot be opened as a bnviz study: {exc}") from exc
        try:
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StudyError(f"{self.path.name} is not a bnviz study: {exc}") from exc
        except StudyError:
            self._conn.close()
            raise

    def _init_schema(self) -> None:
        c = self._conn
        app_id = c.execute("PRAGMA application_id").fetchone()[0]
        version = c.execute("PRAGMA user_version").fetchone()[0]
        has_tables = c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        if has_tables and app_id != APPLICATION_ID:
            raise StudyError(f"{self.path.name} is not a bnviz study: it is another SQLite file")
        if version > SCHEMA_VERSION:
            raise StudyError(
                f"{self.path.name} has study schema {version}; this bnviz reads up to "
                f"{SCHEMA_VERSION}, upgrade bnviz to open it"
            )
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA foreign_keys=ON")
        if has_tables and version == SCHEMA_VERSION:
            return
        c.execute("BEGIN IMMEDIATE")
        try:
            # Re-read inside the write lock: another process may have just created or
            # migrated it.
            version = c.execute("PRAGMA user_version").fetchone()[0]
            if c.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        c.execute(statement)
                c.execute(f"PRAGMA application_id={APPLICATION_ID}")
                version = 1
            elif version < 1:
                raise StudyError(f"{self.path.name} has no study schema version: not a study")
            self._migrate(version)
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise

    def _migrate(self, version: int) -> None:
        """Bring the file from ``version`` to SCHEMA_VERSION inside the caller's transaction.

        A file of the first release (schema 1) is upgraded in place the first time this bnviz
        opens it, even only to read it: that bnviz then refuses it ("upgrade bnviz").
        """
        try:
            for v in range(version + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[v]:
                    self._conn.execute(statement)
            self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StudyError(
                f"{self.path.name} has study schema {version} and cannot be upgraded to "
                f"{SCHEMA_VERSION}: {exc}"
            ) from exc

    def _insert(self, table: str, then: str | None = None, **row: Any) -> int:
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        sql = f"INSERT INTO {table}({columns}) VALUES ({marks})"
        return self._write(sql, tuple(row.values()), then)

    def _write(self, sql: str, args: tuple, then: str | None = None) -> int:
        """Run one statement in its own committed transaction; return the new row id.
        ``then``, a statement taking that id, runs in the same transaction."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                rowid = self._conn.execute(sql, args).lastrowid
                if then is not None:
                    self._conn.execute(then, (rowid,))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
        return int(rowid or 0)

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._conn.execute(sql, args).fetchall()

    # -- meta --------------------------------------------------------------------------------

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON value (the study's fixed config, dataset, notes...)."""
        self._write(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, _dumps(value)),
        )

    def get_meta(self, key: str, default: Any = None) -> Any:
        rows = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return json.loads(rows[0][0]) if rows else default

    # -- rounds ------------------------------------------------------------------------------

    def new_round(
        self,
        spaces: list[Space],
        *,
        n: int,
        method: str,
        seed: int,
        fixed: dict | None = None,
        box: dict | None = None,
    ) -> int:
        """Record a round of sampling (coarse to fine: ``box`` is what narrowed it).

        Returns the round number, 1-based and increasing.
        """
        return self._insert(
            "rounds",
            spaces=_dumps([s.to_dict() for s in spaces]),
            box=None if box is None else _dumps({k: list(v) for k, v in box.items()}),
            fixed=None if fixed is None else _dumps(fixed),
            method=method,
            n=int(n),
            seed=int(seed),
            created_at=_now(),
        )

    def rounds(self) -> list[dict]:
        """All rounds in order, with ``spaces`` rebuilt as :class:`Space` objects."""
        rows = self._read(
            "SELECT id, spaces, box, fixed, method, n, seed, created_at FROM rounds ORDER BY id"
        )
        return [
            {
                "id": rid,
                "spaces": [Space.from_dict(d) for d in json.loads(spaces)],
                "box": None if box is None else {k: tuple(v) for k, v in json.loads(box).items()},
                "fixed": None if fixed is None else json.loads(fixed),
                "method": method,
                "n": n,
                "seed": seed,
                "created_at": created_at,
            }
            for rid, spaces, box, fixed, method, n, seed, created_at in rows
        ]

    # -- trials ------------------------------------------------------------------------------

    def add_trial(self, round_id: int, result: TrialResult, own_group: bool = False) -> int:
        """Store one finished trial, committed at once; returns its id.

        ``own_group``: the trial starts a group of repeats, so its ``group`` is its own id (set
        in the same transaction as the row).

        The ``diverged`` column keeps the meaning it had in schema 1, "no result": it is set
        for failed trials too, so a query written for the first release still skips them.
        """
        row = {f: _float_in(getattr(result, f)) for f in _FLOAT_FIELDS}
        step = result.diverged_step
        no_result = result.state in (TrialState.DIVERGED, TrialState.FAILED)
        try:
            return self._insert(
                "trials",
                round=int(round_id),
                params=_dumps(result.params),
                diverged=int(no_result),
                diverged_step=None if step is None else int(step),
                steps=int(result.steps),
                curve=_dumps([[int(step), float(loss)] for step, loss in result.curve]),
                finished_at=_now(),
                state=result.state.value,
                error=result.error,
                recheck_of=result.recheck_of,
                kind=result.kind,
                bracket=result.bracket,
                pruned_at=None if result.pruned_at is None else _dumps(result.pruned_at),
                group_id=result.group,
                seed=result.seed,
                then="UPDATE trials SET group_id = id WHERE id = ?" if own_group else None,
                **row,
            )
        except sqlite3.IntegrityError as exc:
            what = f"no round {round_id}"
            if result.recheck_of is not None:
                what += f" or no trial {result.recheck_of}"
            raise StudyError(f"{self.path.name} has {what}") from exc

    def trials(self, round_id: int | None = None) -> list[TrialRecord]:
        """Trials in the order they finished, of one round or of all."""
        columns = ", ".join(_COLUMN_SQL.get(f, f) for f in _RECORD_FIELDS)
        sql = f"SELECT {columns} FROM trials"
        if round_id is None:
            rows = self._read(sql + " ORDER BY id")
        else:
            rows = self._read(sql + " WHERE round = ? ORDER BY id", (int(round_id),))
        records = []
        for row in rows:
            d = dict(zip(_RECORD_FIELDS, row))
            d.update({f: _float_out(d[f]) for f in _FLOAT_FIELDS})
            d["params"] = json.loads(d["params"])
            d["pruned_at"] = None if d["pruned_at"] is None else json.loads(d["pruned_at"])
            d["curve"] = _curve_out(json.loads(d["curve"]), d["steps"])
            # the column's "diverged" means "no result" (see add_trial); the record's does not
            d["diverged"] = d["state"] == TrialState.DIVERGED.value
            try:
                records.append(TrialRecord(**d))
            except ValueError as exc:  # an unknown state, a failed trial without its reason
                raise StudyError(
                    f"{self.path.name}: trial {d['id']} is unreadable: {exc}"
                ) from None
        return records

    def best(self, metric: str = "val_loss") -> TrialRecord | None:
        """The complete trial with the lowest loss (or highest accuracy), earliest on ties;
        None if no trial qualifies (see :meth:`ranked`)."""
        ranked = self.ranked(metric)
        return ranked[0] if ranked else None

    def ranked(self, metric: str = "val_loss") -> list[TrialRecord]:
        """The complete trials, best first by ``metric`` (lowest loss or highest accuracy),
        earlier ids first on ties.

        Only ``complete`` trials compete: a diverged or failed one has no result and a pruned
        one only a partial one. Trials whose metric is None, NaN or infinite are left out.
        """
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {sorted(METRICS)}")
        candidates = [
            t
            for t in self.trials()
            if t.state is TrialState.COMPLETE
            and getattr(t, metric) is not None
            and math.isfinite(getattr(t, metric))
        ]
        sign = 1.0 if METRICS[metric] is min else -1.0
        return sorted(candidates, key=lambda t: (sign * getattr(t, metric), t.id))

    # -- lifetime ----------------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Study({str(self.path)!r})"
