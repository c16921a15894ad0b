"""``bnviz`` (the app) checks what its command line names before it opens a window."""

from __future__ import annotations

import pytest

from bnviz.cli import main


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--dataset", "{tmp}/bad.npz", "--lr", "0.1"], "bad.npz: not an .npz archive"),
        (["--dataset", "{tmp}/missing.csv"], "missing.csv: file not found"),
        (["--lr", "0"], "learning rate must be > 0"),
        (["--lesson", "nope"], "no lesson view named 'nope'; choose inside-a-bn-unit"),
    ],
)
def test_a_bad_file_or_flag_exits_2_with_its_message(tmp_path, capsys, argv, words):
    (tmp_path / "bad.npz").write_text("garbage")
    with pytest.raises(SystemExit) as e:
        main([a.format(tmp=tmp_path) for a in argv])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
