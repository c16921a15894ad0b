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
from pathlib import Path
from typing import Any

import numpy as np

from bnviz.search.records import (  # noqa: F401 (re-exported: the study API)
    ERROR_CHARS,
    TRIAL_KINDS,
    CurvePoint,
    TrialRecord,
    TrialResult,
    TrialState,
    one_line,
)
from bnviz.search.spaces import Space
from bnviz.search.study_path import (
    StudyPathError,
    check_study_path,
    make_folders,
    read_only_reason,
    undo,
)
from bnviz.search.study_schema import (  # noqa: F401 (re-exported: the study API)
    _COLUMN_SQL,
    _MIGRATIONS,
    _SCHEMA,
    APPLICATION_ID,
    LEGACY_FAILED_REASON,
    SCHEMA_VERSION,
)

BUSY_TIMEOUT_S = 30.0
METRICS = {"val_loss": min, "val_acc": max, "best_val_loss": min, "best_val_acc": max}
_FLOAT_FIELDS = ("val_loss", "val_acc", "best_val_loss", "best_val_acc", "seconds")


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
        try:  # names, lengths and kinds of file first: nothing is created for a bad path
            check_study_path(self.path)
            existed = self.path.exists()
            folders = make_folders(self.path)
        except StudyPathError as exc:
            raise StudyError(str(exc)) from None
        made = None if existed else self.path  # removed again if the study is refused
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False, isolation_level=None
            )
        except (OSError, sqlite3.Error) as exc:
            undo(made, folders)
            raise StudyError(self._cannot_open(exc)) from None
        try:
            self._init_schema()
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            undo(made, folders)
            reason = read_only_reason(self.path)
            if reason is not None or "readonly" in str(exc):
                raise StudyError(self._cannot_open(exc)) from None
            raise StudyError(f"{self.path.name} is not a bnviz study: {exc}") from None
        except BaseException:
            self._conn.close()
            undo(made, folders)
            raise

    def _cannot_open(self, exc: Exception) -> str:
        reason = read_only_reason(self.path)
        if reason is not None:
            return f"{self.path.name} is read-only: {reason}"
        return f"{self.path.name} cannot be opened as a bnviz study: {exc}"

    def check_writable(self) -> None:
        """StudyError if a round could not store its trials here (read-only, or locked by
        another process past the busy timeout): called before any worker starts, not
        discovered at the first result."""
        reason = read_only_reason(self.path)
        if reason is None:
            try:  # a read-only mount or an immutable file, which access() may not see
                with self._lock:
                    self._conn.execute("BEGIN IMMEDIATE")
                    try:
                        self._conn.execute("DELETE FROM meta WHERE key = '.write-probe'")
                    finally:
                        if self._conn.in_transaction:
                            self._conn.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if "readonly" not in str(exc):
                    raise StudyError(f"{self.path.name} cannot be written ({exc})") from None
                reason = str(exc)
        if reason is not None:
            raise StudyError(
                f"{self.path.name} is read-only: {reason}; a round stores every trial in it, "
                "copy the study to a folder you can write to"
            )

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
        if has_tables:
            tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            missing = [t for t in ("meta", "rounds", "trials") if t not in tables]
            if missing:  # bnviz's id on a file without its tables: damaged, or not ours
                raise StudyError(
                    f"{self.path.name} has bnviz's application id but no {', '.join(missing)} "
                    "table: a damaged study, or another program's file"
                )
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
            if c.in_transaction:
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
        ``then``, a statement taking that id, runs in the same transaction.

        A file that cannot take the write (locked by another process past the busy timeout,
        read-only, a full disk) is a StudyError saying so."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                try:
                    rowid = self._conn.execute(sql, args).lastrowid
                    if then is not None:
                        self._conn.execute(then, (rowid,))
                    self._conn.execute("COMMIT")
                except BaseException:  # Ctrl-C may land after COMMIT: nothing left to undo
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                reason = read_only_reason(self.path)
                why = f"read-only: {reason}" if reason else str(exc)
                raise StudyError(f"{self.path.name} cannot be written ({why})") from None
        return int(rowid or 0)

    def _read(self, sql: str, args: tuple = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, args).fetchall()
            except sqlite3.DatabaseError as exc:  # a damaged file, a column a hand removed
                raise StudyError(f"{self.path.name} cannot be read: {exc}") from None

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
        try:
            return json.loads(rows[0][0]) if rows else default
        except (ValueError, TypeError, RecursionError) as exc:
            raise StudyError(f"{self.path.name}: setting {key!r} is unreadable: {exc}") from None

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
        """All rounds in order, with ``spaces`` rebuilt as :class:`Space` objects; a round
        written by hand that cannot be read is a StudyError naming it."""
        try:
            return self._rounds()
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            if isinstance(exc, StudyError):
                raise
            raise StudyError(f"{self.path.name}: a round is unreadable ({exc})") from None

    def _rounds(self) -> list[dict]:
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
            try:
                d["params"] = json.loads(d["params"])
                d["pruned_at"] = None if d["pruned_at"] is None else json.loads(d["pruned_at"])
                d["curve"] = _curve_out(json.loads(d["curve"]), d["steps"])
            except (ValueError, TypeError, IndexError, RecursionError) as exc:
                raise StudyError(
                    f"{self.path.name}: trial {d['id']} is unreadable: {exc}"
                ) from None
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
