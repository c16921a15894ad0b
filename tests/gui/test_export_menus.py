"""File > Export as code... and Export model as...: the window's settings and live network go
out through bnviz.export; a bad target is a status-bar message, and the run goes on."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.gui import export_menus


def test_export_as_code_writes_the_windows_settings(small_window, qtbot, tmp_path):
    win = small_window
    assert export_menus.export_as_code(win, str(tmp_path / "run.py"))
    text = (tmp_path / "run.py").read_text()
    assert "HIDDEN = [8, 8]" in text and "ACTIVATION" not in text and "def update(" in text
    assert "BETA2" in text  # adam
    assert export_menus.export_as_code(win, str(tmp_path / "run.ipynb"))
    assert '"nbformat": 4' in (tmp_path / "run.ipynb").read_text()
    assert not export_menus.export_as_code(win, str(tmp_path / "no" / "dir" / "run.py"))
    assert "does not exist" in win.status_message.text()


def test_export_model_as_onnx_and_torch(small_window, qtbot, tmp_path):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extra")
    win = small_window
    qtbot.waitUntil(lambda: "net" in win.histories, timeout=10000)
    assert export_menus.export_model_as(win, str(tmp_path / "m.onnx"))
    assert export_menus.export_model_as(win, str(tmp_path / "m.py"))
    assert (tmp_path / "m.npz").is_file() and "nn.Linear" in (tmp_path / "m.py").read_text()
    X = np.random.default_rng(0).standard_normal((20, 2)).astype(np.float32)
    p = ort.InferenceSession(str(tmp_path / "m.onnx")).run(None, {"X": X})[0]
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    # the torch script's weights are the live network's at the time of the export
    with np.load(tmp_path / "m.npz") as f:
        assert f["W1"].shape == (8, 2)
    assert not export_menus.export_model_as(win, str(tmp_path / "m.txt"))
    assert "choose a .onnx or .py" in win.status_message.text()


def test_compare_mode_exports_one_model_per_network(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from bnviz.gui.main_window import MainWindow
    from bnviz.train.config import TrainConfig

    config = TrainConfig(n_samples=200, hidden=(8,), compare=True)
    win = MainWindow(config, settings=QSettings(str(tmp_path / "s.ini"), QSettings.IniFormat))
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: {"bn", "plain"} <= set(win.histories), timeout=10000)
        assert export_menus.export_model_as(win, str(tmp_path / "m.py"))
        assert {"m-bn.py", "m-bn.npz", "m-plain.py", "m-plain.npz"} <= {
            p.name for p in tmp_path.iterdir()
        }
        with np.load(tmp_path / "m-bn.npz") as bn, np.load(tmp_path / "m-plain.npz") as plain:
            assert "gamma1" in bn.files and "gamma1" not in plain.files
    finally:
        win.close()
