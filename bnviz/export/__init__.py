"""Handing over what the app shows: a run as standalone NumPy code or a notebook
(:mod:`~bnviz.export.code`), a trained model as ONNX or a PyTorch script
(:mod:`~bnviz.export.onnx_model`, :mod:`~bnviz.export.torch_model`). Qt-free; never imports gui.
"""
