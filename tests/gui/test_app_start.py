"""Starting the app where it cannot start: a clear line, status 2, no Qt abort."""

from __future__ import annotations

import os
import subprocess
import sys


def run_bnviz(args, env):
    return subprocess.run(
        [sys.executable, "-m", "bnviz", *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_no_display_gets_a_message_not_a_crash():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    }
    proc = run_bnviz([], env)
    assert proc.returncode == 2 and "no display found" in proc.stderr


def test_screenshot_into_a_missing_folder_is_refused():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = run_bnviz(["--screenshot", "/no/such/folder/x.png"], env)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_bad_settings_flag_for_the_app():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    proc = run_bnviz(["--lr", "0"], env)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


def test_the_app_restores_the_last_settings_unless_flags_say_otherwise(monkeypatch):
    from bnviz import cli

    seen = []
    monkeypatch.setattr("bnviz.gui.app.run_app", lambda config, **kw: seen.append(config) or 0)
    assert cli.main([]) == 0 and seen[-1] is None  # the window restores from QSettings
    assert cli.main(["--lr", "0.2"]) == 0 and seen[-1].lr == 0.2
    assert cli.main(["--compare"]) == 0 and seen[-1].compare
