"""A study file's layout: schema 1 as the first release created it, and each migration since.

A new file gets schema 1 and then every migration, so new and migrated files have one layout;
:class:`bnviz.search.study.Study` runs them.
"""

from __future__ import annotations

SCHEMA_VERSION = 5
# PRAGMA application_id tells a bnviz study from any other SQLite file ("bnvz" in ASCII).
APPLICATION_ID = 0x626E767A
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
