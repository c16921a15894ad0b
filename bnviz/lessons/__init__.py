"""Qt-free computations of the course's lessons, one module per lesson, each tested against the
network's own numbers; the views that draw them live in ``bnviz.gui.lessons``.

Imports ``bnviz.nn``, ``bnviz.data`` and ``bnviz.train``.
"""
