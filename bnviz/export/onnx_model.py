"""A trained network as an ONNX graph (opset 13): raw inputs in, probabilities out, in eval mode.

The graph is ``X -> (X - mean) / std -> [Gemm -> BatchNormalization -> activation]* -> Gemm ->
Softmax``: the input standardization travels inside it, so a consumer (onnxruntime, Netron, a
browser) feeds the data in its own units, as :meth:`MLP.predict_proba_raw` does. Written with the
``onnx`` package's helper API (the optional extra ``bnviz[onnx]``).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from bnviz.export.model_parts import ModelParts

OPSET = 13
ONNX_ACTIVATIONS = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": None}
INPUT, OUTPUT = "X", "probabilities"


class OnnxMissing(ImportError):
    """The ``onnx`` package is not installed; the message says how to get it."""


def require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise OnnxMissing(
            "writing .onnx needs the onnx package: pip install 'bnviz[onnx]'"
        ) from None
    return onnx


def build_graph(parts: ModelParts) -> Any:
    """The ``onnx.ModelProto`` of ``parts`` (checked by ``onnx.checker``)."""
    onnx = require_onnx()
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes = [], []

    def const(name: str, a: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.asarray(a, np.float32), name))
        return name

    def node(op: str, inputs: list[str], out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    x = node("Sub", [INPUT, const("input_mean", parts.mean)], "centered")
    x = node("Div", [x, const("input_std", parts.std)], "standardized")
    last = len(parts.weights)
    for l, (W, b, norm) in enumerate(zip(parts.weights, parts.biases, parts.norms), 1):
        ins = [x, const(f"W{l}", W)] + ([const(f"b{l}", b)] if b is not None else [])
        x = node("Gemm", ins, f"z{l}", transB=1)
        if l == last:
            break
        if norm is not None:
            names = [const(f"{k}{l}", a) for k, a in zip(("gamma", "beta", "running_mean",
                                                          "running_var"), norm)]  # fmt: skip
            x = node("BatchNormalization", [x, *names], f"z_tilde{l}", epsilon=parts.eps)
        op = ONNX_ACTIVATIONS[parts.activation]
        if op is not None:
            x = node(op, [x], f"a{l}")
    node("Softmax", [x], OUTPUT, axis=1)
    n_in, n_out = parts.sizes[0], parts.sizes[-1]
    graph = helper.make_graph(
        nodes, "bnviz_mlp",
        [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", n_in])],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, ["batch", n_out])],
        initializer=inits,
    )  # fmt: skip
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="bnviz"
    )
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime releases since 1.10
    model.doc_string = _doc(parts)
    onnx.checker.check_model(model)
    return model


def _doc(parts: ModelParts) -> str:
    bn = "batch norm (eval mode)" if parts.batchnorm else "no batch norm"
    hidden = ",".join(map(str, parts.sizes[1:-1])) or "none"
    return (
        f"bnviz MLP: {parts.sizes[0]} inputs (raw units, standardized inside), hidden {hidden} "
        f"{parts.activation}, {bn}, softmax over {parts.sizes[-1]} classes"
    )


def write_onnx(parts: ModelParts, path: str | os.PathLike[str]) -> None:
    """Write the graph to ``path``."""
    with open(path, "wb") as f:
        f.write(build_graph(parts).SerializeToString())
