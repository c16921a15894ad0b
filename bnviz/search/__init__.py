"""Hyperparameter search: sampling spaces (log, 1 - 10^r, ...), studies in SQLite, sweeps over
process pools or Dask, the importance of each hyperparameter, and the explorer's plot points.

Imports ``bnviz.nn``, ``bnviz.data`` and ``bnviz.train``.
"""
