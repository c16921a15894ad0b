"""Plot panels: one per file, each drawing from snapshots (see bnviz/gui/panel.py)."""
