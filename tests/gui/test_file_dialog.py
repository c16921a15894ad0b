"""The File menus' dialog helper: a path typed without a suffix gets the action's own."""

from __future__ import annotations

from bnviz.gui.file_dialog import ask


def test_a_path_without_a_suffix_gets_the_default_one():
    assert ask(None, True, "Save", "Python (*.py)", "/tmp/run", ".py") == "/tmp/run.py"
    assert ask(None, True, "Save", "Python (*.py)", "/tmp/run.ipynb", ".py") == "/tmp/run.ipynb"
    assert ask(None, False, "Open", "Data (*.npz)", "/tmp/data") == "/tmp/data"  # no default


def test_no_path_is_none():
    assert ask(None, True, "Save", "HTML (*.html)", "", ".html") is None
