"""The hyperparameter explorer tab: one widget per module, composed in ``explorer``."""
