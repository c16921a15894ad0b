"""A list of (markdown, code) pieces as a Jupyter notebook: nbformat 4 JSON written by hand
(the format is small and stable), so exporting needs no Jupyter package."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bnviz.export.pieces import Piece

NBFORMAT, NBFORMAT_MINOR = 4, 5


def _lines(text: str) -> list[str]:
    """nbformat's multiline string: the lines with their newlines kept."""
    return text.splitlines(keepends=True)


def to_notebook(cells: Sequence[Piece]) -> dict[str, Any]:
    """The notebook as a dict: for each piece its markdown cell (when it has text), then its
    code cell. Cell ids are required from nbformat 4.5 on."""
    out: list[dict[str, Any]] = []
    for piece in cells:
        if piece.markdown:
            out.append({"cell_type": "markdown", "id": f"md-{len(out)}", "metadata": {},
                        "source": _lines(piece.markdown)})  # fmt: skip
        out.append(
            {"cell_type": "code", "id": f"code-{len(out)}", "metadata": {}, "execution_count": None,
             "outputs": [], "source": _lines(piece.code.rstrip("\n"))}
        )  # fmt: skip
    return {
        "cells": out,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": NBFORMAT,
        "nbformat_minor": NBFORMAT_MINOR,
    }


def to_json(cells: Sequence[Piece]) -> str:
    return json.dumps(to_notebook(cells), indent=1) + "\n"
