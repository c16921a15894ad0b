"""Qt-free training core: network, layers, optimizers, data, trainer, sweeps."""
