"""Qt views and widgets; they read immutable snapshots produced by bnviz.train."""
