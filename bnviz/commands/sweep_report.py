"""What ``bnviz sweep`` prints: the best trials as a table, and a re-check's then and now."""

from __future__ import annotations

import math
from collections import Counter

TOP_SHOWN = 10


def _failed(t) -> bool:
    """A trial whose worker raised: no result, only its reason (``t.error``)."""
    from bnviz.search.study import TrialState

    return t.state is TrialState.FAILED


def _complete(t) -> bool:
    from bnviz.search.study import TrialState

    return t.state is TrialState.COMPLETE


def _finite(x) -> bool:
    return x is not None and math.isfinite(x)


def print_table(study) -> None:
    """The best complete trials by validation loss; the others (by state) at the bottom,
    then why each shown failed trial failed."""
    trials = study.trials()
    print(f"{study.path}: {len(trials)} trials in {len(study.rounds())} round(s)")
    ok = sorted((t for t in trials if _complete(t) and _finite(t.val_loss)),
                key=lambda t: (t.val_loss, t.id))  # fmt: skip
    bad = [t for t in trials if t not in ok]
    shown = ok[:TOP_SHOWN] + bad[: max(1, TOP_SHOWN - len(ok)) if bad else 0]
    names = list(dict.fromkeys(k for t in shown for k in t.params))
    print(f"{'id':>4} {'round':>5} " + " ".join(f"{n:>10}" for n in names)
          + f" {'val loss':>9} {'val acc':>7} {'seconds':>7}")  # fmt: skip
    for t in shown:
        values = " ".join(f"{_cell(t.params.get(n)):>10}" for n in names)
        state = "no loss" if _complete(t) else t.state.value  # complete: a non-finite loss
        loss = f"{t.val_loss:9.4f} {t.val_acc:7.3f}" if t in ok else f"{state:>9} {'':>7}"
        print(f"{t.id:>4} {t.round:>5} {values} {loss} {t.seconds:7.2f}")
    if bad:
        counts = Counter(t.state.value for t in bad)
        parts = [f"{counts['diverged']} diverged"]
        parts += [f"{counts[s]} {s}" for s in ("failed", "pruned") if counts[s]]
        print(f"({', '.join(parts)} of {len(trials)} trials)")
    for t in shown:
        if _failed(t):
            print(f"trial {t.id} failed: {t.error}")


def print_rechecks(study, round_id: int) -> None:
    """Old vs new validation loss of each re-checked trial: did the ranking hold?"""
    by_id = {t.id: t for t in study.trials()}
    if any(t.group is not None for t in study.trials(round_id)):  # repeats: group means
        from bnviz.search.recheck import recheck_pairs

        print("re-checked (mean val loss over the seeds, then -> now):")
        for p in recheck_pairs(study.trials(), round_id):
            print(f"  group {p.now_id} repeats group {p.then_id}: {p.then_loss:.4f} -> "
                  f"{p.now_loss:.4f}")  # fmt: skip
        return
    print("re-checked (val loss then -> now):")
    for t in study.trials(round_id):
        old = by_id[t.recheck_of]
        now = f"{t.val_loss:.4f}" if t.state.value == "complete" else t.state.value
        print(f"  trial {t.id} repeats {old.id}: {old.val_loss:.4f} -> {now}")


def _cell(v) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)
