"""``bnviz export-model``: ONNX (onnxruntime) and the PyTorch script (torch) give
``MLP.load(MODEL).predict_proba_raw(X)`` to 1e-5 on raw inputs, BN and plain, every activation;
each skips with a reason where its runtime is not installed."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from bnviz.cli import main
from bnviz.nn.network import MLP

ATOL = 1e-5
MODELS = {
    "bn-sigmoid-spirals": ["--steps", "80"],
    "plain-relu-digits": ["--dataset", "digits", "--no-bn", "--activation", "relu",
                          "--hidden", "32", "--optimizer", "adam", "--lr", "0.01", "--steps", "60"],
    "bn-tanh-blobs": ["--dataset", "blobs", "--activation", "tanh", "--hidden", "8,8",
                      "--steps", "60", "--bn-momentum", "0.5"],
    "plain-linear-no-hidden": ["--dataset", "xor", "--activation", "linear", "--hidden", "0",
                               "--steps", "40"],
}  # fmt: skip


def _trained(tmp_path, flags) -> tuple[MLP, np.ndarray, str]:
    model = tmp_path / "model.npz"
    assert main(["train", *flags, "--quiet", "--save", str(model)]) == 0
    net = MLP.load(model)
    rng = np.random.default_rng(1)
    # raw inputs in the data's units: around the training mean, a few stds out
    X = net.input_mean + rng.standard_normal((64, net.sizes[0])) * 2 * net.input_std
    return net, X.astype(np.float32), str(model)


@pytest.mark.parametrize("flags", MODELS.values(), ids=MODELS.keys())
def test_onnx_matches_predict_proba_raw(tmp_path, capsys, flags):
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is in the test extra")
    onnx = pytest.importorskip("onnx", reason="onnx is the [onnx] extra")
    net, X, model = _trained(tmp_path, flags)
    out = tmp_path / "model.onnx"
    assert main(["export-model", model, str(out)]) == 0
    proto = onnx.load(str(out))
    onnx.checker.check_model(proto)
    assert proto.opset_import[0].version >= 13
    ops = [n.op_type for n in proto.graph.node]
    assert ops[:2] == ["Sub", "Div"] and ops[-1] == "Softmax"  # standardization inside
    assert ("BatchNormalization" in ops) == net.batchnorm
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    p = session.run(None, {"X": X})[0]
    np.testing.assert_allclose(p, net.predict_proba_raw(X), atol=ATOL, rtol=0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("flags", MODELS.values(), ids=MODELS.keys())
def test_torch_script_matches_predict_proba_raw(tmp_path, capsys, monkeypatch, flags):
    net, X, model = _trained(tmp_path, flags)
    out = tmp_path / "torch_model.py"
    assert main(["export-model", model, str(out)]) == 0
    assert (tmp_path / "torch_model.npz").is_file()
    text = out.read_text()
    compile(text, str(out), "exec")  # valid Python even where torch is missing
    assert "nn.Linear" in text and ("nn.BatchNorm1d" in text)
    torch = pytest.importorskip("torch", reason="torch is not installed (never a bnviz extra)")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = importlib.util.spec_from_file_location("torch_model", out)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    torch_net = module.load()
    assert not torch_net.training
    with torch.no_grad():
        p = torch_net(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(p, net.predict_proba_raw(X), atol=ATOL, rtol=0)
    sys.modules.pop("torch_model", None)


@pytest.mark.parametrize("flags", MODELS.values(), ids=MODELS.keys())
def test_torch_script_loads_every_weight_where_pytorch_reads_it(
    tmp_path, capsys, monkeypatch, flags
):
    """Without torch: the script's load() on a NumPy stand-in with PyTorch's semantics
    (tests/export/fake_torch.py) gives predict_proba_raw, so no weight is misplaced."""
    from tests.export import fake_torch

    net, X, model = _trained(tmp_path, flags)
    out = tmp_path / "stand_in_model.py"
    assert main(["export-model", model, str(out)]) == 0
    for name in ("torch", "torch.nn"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    fake_torch.install()
    try:
        spec = importlib.util.spec_from_file_location("stand_in_model", out)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        torch_net = module.load()
        p = torch_net(fake_torch._t(X)).numpy()
    finally:
        for name in ("torch", "torch.nn"):
            sys.modules.pop(name, None)
    assert not torch_net.training
    np.testing.assert_allclose(p, net.predict_proba_raw(X), atol=ATOL, rtol=0)


def test_model_without_its_standardization_exports_with_a_note(tmp_path, capsys):
    model = tmp_path / "bare.npz"
    MLP([2, 4, 3], seed=0).save(model)
    assert main(["export-model", str(model), str(tmp_path / "bare.py")]) == 0
    assert "takes standardized inputs" in capsys.readouterr().err
    with np.load(tmp_path / "bare.npz") as f:
        assert np.all(f["input_std"] == 1) and np.all(f["input_mean"] == 0)


@pytest.mark.parametrize(
    "args, message",
    [
        (["missing.npz", "out.onnx"], "no such file"),
        (["model.npz", "out.txt"], "choose a .onnx or .py file name"),
        (["model.npz", "nowhere/out.onnx"], "does not exist"),
        (["notes.npz", "out.onnx"], "not a bnviz model"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    MLP([2, 3], seed=0).save("model.npz")
    (tmp_path / "notes.npz").write_text("not a zip")
    with pytest.raises(SystemExit) as e:
        main(["export-model", *args])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz", "notes.npz"]
