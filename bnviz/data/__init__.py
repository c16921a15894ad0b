"""Data sets: the built-in generators and digits (``datasets``) and the user's own files
(``files``), both returning a standardized train/validation :class:`Dataset`.

Imports no other part of bnviz.
"""

from __future__ import annotations

from bnviz.data.dataset import DataError, Dataset
from bnviz.data.datasets import BUILTIN_DATASETS, load_dataset, make_dataset

__all__ = ["BUILTIN_DATASETS", "DataError", "Dataset", "load_dataset", "make_dataset"]
