"""Write a bnviz study into an Optuna storage, so optuna-dashboard and Optuna's plots open it.

One Optuna study per bnviz study file, named after the file (``sweep.sqlite`` -> ``sweep``),
direction minimize, value = the validation loss. Each trial keeps its sampled values with the
distribution its round sampled them from:

- ``log`` -> ``FloatDistribution(low, high, log=True)``; ``linear`` -> ``FloatDistribution``;
- ``int`` -> ``IntDistribution``; ``pow2`` -> ``IntDistribution(log=True)`` (Optuna has no
  powers-of-two distribution: the values are, the distribution is wider);
- ``1m`` (beta = 1 - 10^r) -> ``FloatDistribution`` over beta itself: Optuna has no such scale;
- ``cat`` -> ``CategoricalDistribution`` over every choice any round offered (Optuna refuses a
  parameter whose choices change between trials).

The bnviz space of every parameter (``"0.9:0.999:1m"``) is kept in the trial's user attribute
``bnviz_spaces``, with the trial's id, round, state, steps, accuracy and re-check link (and,
where known, its Hyperband bracket, ``pruned_at``, group of repeats and seed). States:
complete -> COMPLETE, pruned -> PRUNED (its value the loss where it stopped), diverged and failed
-> FAIL (no value); a complete trial without a finite loss is a FAIL too, as Optuna counts a NaN
objective. The curve becomes the intermediate values, by step.

Optuna is an optional extra (``pip install "bnviz[optuna]"``), imported only here.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bnviz.search.spaces import Space
from bnviz.search.study import Study, TrialRecord, TrialState

OPTUNA_HINT = (
    'exporting to Optuna needs Optuna: pip install "bnviz[optuna]" (or pip install optuna)'
)


class ExportError(ValueError):
    """A study that cannot be exported where asked, with a one-line reason for the user."""


def optuna_available() -> bool:
    """Whether Optuna can be imported (the ``optuna`` extra is installed)."""
    try:
        import optuna  # noqa: F401
    except ImportError:
        return False
    return True


def study_name(study: Study) -> str:
    """The Optuna study name for a bnviz study: its file name without the extension."""
    return Path(study.path).stem


def _check_sqlite_target(storage: str) -> None:
    """A ``sqlite:///PATH`` storage gets a study file's checks (a device, a name or path too
    long for SQLite's journal), before SQLAlchemy creates anything next to it."""
    from bnviz.search.study_path import StudyPathError, check_study_path

    if storage.startswith("sqlite:///") and len(storage) > len("sqlite:///"):
        try:
            check_study_path(Path(storage[len("sqlite:///") :]))
        except StudyPathError as e:
            raise ExportError(f"cannot use the Optuna storage {storage[:80]}: {e}") from None


def default_storage(study_path: str | Path) -> str:
    """A storage URL beside the study that no export has written yet: ``x.optuna.db``, then
    ``x.optuna-2.db``, ``-3``... Each export creates a new Optuna study, which a storage that
    already holds one of that name refuses; a fresh file keeps a second export one click."""
    path = Path(study_path)
    for i in range(1, 10_000):
        candidate = path.with_suffix(".optuna.db" if i == 1 else f".optuna-{i}.db")
        if not candidate.exists():
            return f"sqlite:///{candidate}"
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")  # 10,000 exports: a timestamp instead
    return f"sqlite:///{path.with_suffix(f'.optuna-{stamp}.db')}"


def export_study(study: Study, storage: str, name: str | None = None) -> str:
    """Write every trial of ``study`` into the Optuna storage URL ``storage`` (e.g.
    ``sqlite:///x.db``) as a new Optuna study; returns its name.

    Raises
    ------
    ExportError
        Optuna is missing, the storage cannot be opened, it already has a study of that name
        (delete it first, or export elsewhere), or a parameter cannot be expressed.
    """
    try:
        import optuna
    except ImportError:
        raise ExportError(OPTUNA_HINT) from None
    name = name or study_name(study)
    rounds = {r["id"]: r["spaces"] for r in study.rounds()}
    choices = _all_choices(rounds.values())
    frozen = [_trial(t, rounds.get(t.round, []), choices) for t in study.trials()]
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no line per trial on stderr
    _check_sqlite_target(storage)
    try:
        target = optuna.create_study(storage=storage, study_name=name, direction="minimize")
    except optuna.exceptions.DuplicatedStudyError:
        raise ExportError(
            f"{storage} already has a study named {name!r}: delete it (optuna delete-study "
            f"--study-name {name} --storage {storage}) or export to another storage"
        ) from None
    except Exception as e:  # SQLAlchemy and the storages raise many kinds for a bad URL
        raise ExportError(f"cannot open the Optuna storage {storage}: {_one_line(e)}") from None
    target.set_user_attr("bnviz_study", str(study.path))
    target.set_user_attr("metric", "val_loss")
    try:
        target.add_trials(frozen)
    except ValueError as e:  # a parameter whose distribution changed kind between rounds
        raise ExportError(f"Optuna refused a trial of {study.path.name}: {e}") from None
    return name


#: Optuna imports scikit-learn only when fANOVA runs: without it, this is what to do.
FANOVA_HINT = 'fANOVA needs scikit-learn (Optuna fits a random forest): pip install "bnviz[optuna]"'


def fanova_importance(trials: list[TrialRecord], rounds: list[dict], seed: int = 0) -> dict:
    """fANOVA importance (Optuna's ``FanovaImportanceEvaluator``) of the study's parameters:
    the share of the loss's variance each explains, over a random forest fitted to the trials.

    Only complete trials with a finite loss count (a group of repeats may be passed as one
    record at its mean), over the parameters every one of them sampled, each on the widest
    distribution the study sampled it from. ``{}`` under two such parameters or too few trials.
    Slow (seconds for 50 trials): callers run it off the GUI thread. Raises ExportError without
    Optuna, or with the evaluator's reason.
    """
    from bnviz.search.importance import MIN_TRIALS
    from bnviz.search.points import axis_space

    try:
        import optuna
        from optuna.importance import FanovaImportanceEvaluator, get_param_importances
    except ImportError:
        raise ExportError(OPTUNA_HINT) from None
    done = [t for t in trials if t.state is TrialState.COMPLETE and t.val_loss is not None
            and math.isfinite(t.val_loss)]  # fmt: skip
    names = set.intersection(*(set(t.params) for t in done)) if done else set()
    found_spaces = {n: axis_space(rounds, n) for n in sorted(names)}
    spaces = {n: sp for n, sp in found_spaces.items() if sp is not None}
    if len(spaces) < 2 or len(done) < MIN_TRIALS:
        return {}
    choices = _all_choices(r["spaces"] for r in rounds)
    dists = {n: distribution(sp, choices.get(n, ())) for n, sp in spaces.items()}
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize")
    try:
        study.add_trials(
            optuna.trial.create_trial(
                value=float(t.val_loss or 0.0),
                params={n: t.params[n] for n in dists},
                distributions=dists,
            )
            for t in done
        )
        found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    except ImportError:  # Optuna's fANOVA fits its forest with scikit-learn
        raise ExportError(FANOVA_HINT) from None
    except (ValueError, RuntimeError) as e:  # a value outside its distribution, ...
        raise ExportError(f"fANOVA: {_one_line(e)}") from None
    return {n: float(v) for n, v in found.items()}


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split())[:300]


def _all_choices(rounds: Any) -> dict[str, tuple]:
    """Per categorical parameter, every choice any round offered, in first-seen order."""
    out: dict[str, dict] = {}
    for spaces in rounds:
        for s in spaces:
            if s.kind == "cat":
                out.setdefault(s.name, {}).update(dict.fromkeys(s.choices))
    return {name: tuple(c) for name, c in out.items()}


def distribution(space: Space, choices: tuple = ()) -> Any:
    """The Optuna distribution closest to a bnviz space (see the module docstring);
    ``choices`` widens a ``cat`` space to every choice of the study."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    if space.kind == "cat":
        return CategoricalDistribution(choices or space.choices)
    low, high = space.bounds
    if space.kind in ("int", "pow2"):
        return IntDistribution(int(low), int(high), log=space.kind == "pow2")
    if space.kind in ("log", "linear", "1m"):
        return FloatDistribution(float(low), float(high), log=space.kind == "log")
    raise ExportError(f"{space.name}: a {space.kind} space has no Optuna distribution")


_STATES = {
    TrialState.COMPLETE: "COMPLETE",
    TrialState.PRUNED: "PRUNED",
    TrialState.DIVERGED: "FAIL",
    TrialState.FAILED: "FAIL",
}


def _trial(t: TrialRecord, spaces: list[Space], choices: dict[str, tuple]) -> Any:
    """One bnviz trial as an Optuna FrozenTrial."""
    import optuna

    by_name = {s.name: s for s in spaces if s.kind != "fixed"}
    params = {k: v for k, v in t.params.items() if k in by_name}
    dists = {k: distribution(by_name[k], choices.get(k, ())) for k in params}
    finite = t.val_loss is not None and math.isfinite(t.val_loss)
    state = _STATES[t.state] if finite or t.state is not TrialState.COMPLETE else "FAIL"
    value = t.val_loss if state in ("COMPLETE", "PRUNED") and finite else None
    attrs: dict[str, Any] = {
        "bnviz_id": t.id,
        "bnviz_round": t.round,
        "bnviz_state": t.state.value,
        "bnviz_spaces": {k: by_name[k].to_text() for k in params},
        "steps": t.steps,
        "val_acc": t.val_acc if t.val_acc is not None and math.isfinite(t.val_acc) else None,
    }
    unsampled = {k: v for k, v in t.params.items() if k not in by_name}
    if unsampled:  # a value its round did not record a space for: kept, not as a parameter
        attrs["bnviz_unsampled_params"] = unsampled
    if t.recheck_of is not None:
        attrs["recheck_of"] = t.recheck_of
    if t.kind != "sampled":  # a babysat run: the user steered it by hand
        attrs["bnviz_kind"] = t.kind
    if t.error:
        attrs["error"] = t.error
    if t.diverged_step is not None:
        attrs["diverged_step"] = t.diverged_step
    # Hyperband's bracket, why it was pruned, its group of repeats and seed: kept where known
    for key, v in (("bnviz_bracket", t.bracket), ("pruned_at", t.pruned_at),
                   ("bnviz_group", t.group), ("seed", t.seed)):  # fmt: skip
        if v is not None:
            attrs[key] = v
    trial = optuna.trial.create_trial(
        state=getattr(optuna.trial.TrialState, state),
        value=value,
        params=params,
        distributions=dists,
        user_attrs=attrs,
        intermediate_values={int(step): float(loss) for step, loss in t.curve},
    )
    try:  # keep bnviz's times: it finished at finished_at after training for `seconds`
        done = datetime.fromisoformat(t.finished_at).astimezone().replace(tzinfo=None)
        trial.datetime_complete = done
        trial.datetime_start = done - timedelta(seconds=max(0.0, t.seconds or 0.0))
    except ValueError:  # an empty or odd timestamp: Optuna's "now" stays
        pass
    return trial
