"""Qt views and widgets; they read snapshots produced by bnviz.core."""
