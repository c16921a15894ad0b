"""Write a trained model as an ONNX graph or a PyTorch script (raw inputs in, probabilities out).

``bnviz export-model MODEL.npz OUT.onnx|OUT.py``: eval mode, the input standardization inside.
"""

from __future__ import annotations

import argparse
import sys


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export-model",
        help="write a saved model as ONNX (.onnx) or a PyTorch script (.py)",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("model", metavar="MODEL.npz", help="a model saved by bnviz (train --save)")
    p.add_argument("out", metavar="OUT.onnx|OUT.py", help="the file to write")
    p.set_defaults(run=run, subparser=p)


def run(args: argparse.Namespace, parser) -> int:
    from bnviz.export.model import export_model
    from bnviz.export.target import ExportError
    from bnviz.nn.model_io import ModelFileError
    from bnviz.nn.network import MLP

    try:
        files, note = export_model(MLP.load(args.model), args.out)
    except (ModelFileError, ExportError, ImportError) as e:
        parser.error(str(e))
    except OSError as e:
        parser.error(f"{args.out}: {e.strerror or e}")
    if note:
        sys.stderr.write(f"bnviz export-model: {note}\n")
    for f in files:
        print(f"wrote {f}")
    return 0
