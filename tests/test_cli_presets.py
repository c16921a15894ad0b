"""``bnviz presets`` lists the presets; ``bnviz --preset`` refuses an unknown name in one line."""

from __future__ import annotations

import pytest

from bnviz.cli import main
from bnviz.lessons.presets import list_presets


def test_presets_lists_name_and_title(capsys):
    assert main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    presets = list_presets()
    assert len(lines) == len(presets)
    for line, p in zip(lines, presets):
        name, title = line.split("  ", 1)
        assert (name, title) == (p.name, p.lesson.title)
    assert lines[0].startswith("deep-sigmoid-bn-vs-plain  Deep sigmoid net, BN vs plain")


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--preset", "nope"], "--preset: no preset named 'nope'"),
        (["--preset", "{tmp}/missing.json"], "no preset file"),
        (["--preset", "loss-landscape", "--settings", "x.json"], "choose one"),
        (["--preset", "loss-landscape", "--lr", "0"], "learning rate must be > 0"),
    ],
)
def test_a_bad_preset_exits_2_naming_it(tmp_path, capsys, argv, words):
    with pytest.raises(SystemExit) as e:
        main([a.format(tmp=tmp_path) for a in argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
