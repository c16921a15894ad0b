"""``bnviz train``'s summary gives each network's ECE and fitted temperature."""

from __future__ import annotations

import re

from bnviz.cli import main


def test_summary_has_ece_and_fitted_t_per_network(capsys):
    args = ["train", "--dataset", "blobs", "--samples", "300", "--hidden", "8", "--compare"]
    assert main([*args, "--steps", "40", "--quiet"]) == 0
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if "fitted T" in ln]
    assert len(lines) == 2 and lines[0].lstrip().startswith("bn") and "plain" in lines[1]
    for ln in lines:
        ece, t = re.search(r"ECE ([\d.]+) \(15 bins\); fitted T ([\d.e+-]+)", ln).groups()
        assert 0 <= float(ece) <= 1 and float(t) > 0
