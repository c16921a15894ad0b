"""``export_model``: a saved network to ONNX (``.onnx``) or a PyTorch script (``.py``), one call
for the command and the window's menu."""

from __future__ import annotations

import os
from pathlib import Path

from bnviz.export.model_parts import ModelParts
from bnviz.export.target import check_target
from bnviz.nn.network import MLP

MODEL_SUFFIXES = (".onnx", ".py")


def export_model(net: MLP, out: str | os.PathLike[str]) -> tuple[list[str], str]:
    """Write ``net`` to ``out`` (format by suffix); returns the files written and a note ("" or
    a warning, e.g. for a model that does not know its input standardization). Raises
    :class:`~bnviz.export.target.ExportError` or
    :class:`~bnviz.export.onnx_model.OnnxMissing` with one line."""
    p = Path(out)
    suffix = check_target(p, MODEL_SUFFIXES)
    parts = ModelParts.of(net)
    note = ""
    if not parts.knows_scaling:
        note = ("the model file does not know its input standardization (an older bnviz saved "
                "it): the export takes standardized inputs")  # fmt: skip
    if suffix == ".onnx":
        from bnviz.export.onnx_model import write_onnx

        write_onnx(parts, p)
        return [str(p)], note
    from bnviz.export.torch_model import write_torch

    return write_torch(parts, p), note
