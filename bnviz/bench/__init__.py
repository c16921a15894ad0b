"""``bnviz bench``: training speed against PyTorch, BLAS threads, snapshots, sweeps and the app,
measured as ratios in one run (these machines drift).

May import every other part, the GUI included (for the app's own figures).
"""
