"""Built-in generators, the digits set and `standardize_split` (no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.data.datasets import (
    BUILTIN_DATASETS,
    DEFAULT_SAMPLES,
    DataError,
    Dataset,
    load_dataset,
    make_dataset,
    standardize_split,
)

PLANAR = [n for n in BUILTIN_DATASETS if n != "digits"]


@pytest.mark.parametrize("name", PLANAR)
def test_same_seed_same_arrays_other_seed_differs(name):
    a, b = make_dataset(name, seed=3), make_dataset(name, seed=3)
    c = make_dataset(name, seed=4)
    for field in ("X_train", "y_train", "X_val", "y_val", "mean", "std"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.X_train, c.X_train)


@pytest.mark.parametrize("name", PLANAR)
@pytest.mark.parametrize("n_classes", [2, 3, 7])
def test_shapes_dtypes_and_every_class_present(name, n_classes):
    ds = make_dataset(name, n_classes=n_classes, n_samples=350, val_fraction=0.2)
    expected_c = 2 if name == "xor" else n_classes
    assert ds.n_classes == expected_c
    assert ds.X_train.shape == (280, 2) and ds.X_val.shape == (70, 2)
    assert ds.X_train.dtype == ds.X_val.dtype == np.float32
    assert ds.y_train.dtype == ds.y_val.dtype == np.int64
    assert ds.mean.shape == ds.std.shape == (2,) and ds.mean.dtype == np.float32
    assert ds.n_features == 2 and ds.image_shape is None
    labels = np.concatenate([ds.y_train, ds.y_val])
    assert labels.min() >= 0 and labels.max() < expected_c
    assert set(np.unique(labels)) == set(range(expected_c))
    assert ds.class_names == tuple(str(i) for i in range(expected_c))


def test_default_sample_count():
    ds = make_dataset("spirals")
    assert len(ds.y_train) + len(ds.y_val) == DEFAULT_SAMPLES


def test_classes_are_balanced():
    ds = make_dataset("blobs", n_classes=4, n_samples=402)
    counts = np.bincount(np.concatenate([ds.y_train, ds.y_val]))
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize("name", BUILTIN_DATASETS)
def test_train_is_standardized_and_val_uses_train_stats(name):
    ds = make_dataset(name)
    assert np.allclose(ds.X_train.mean(axis=0), 0, atol=1e-5)
    std = ds.X_train.std(axis=0)
    # digits has always-blank pixels; those keep std 1 and stay at 0
    constant = ds.std == 1
    assert np.allclose(std[~constant], 1, atol=1e-4)
    # undo with the stored training stats and recompute them from the raw training rows
    raw_train, raw_val = ds.raw(ds.X_train), ds.raw(ds.X_val)
    np.testing.assert_allclose(raw_train.mean(axis=0), ds.mean, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose((raw_val - ds.mean) / ds.std, ds.X_val, rtol=1e-4, atol=1e-4)
    # the validation set was NOT standardized with its own statistics
    assert not np.allclose(ds.X_val.mean(axis=0), 0, atol=1e-6)


def test_noise_zero_is_clean_and_noise_is_a_knob():
    clean = make_dataset("rings", n_classes=2, noise=0.0)
    raw = clean.raw(clean.X_train).astype(np.float64)
    radius = np.hypot(*raw.T)
    for c, r in enumerate((0.5, 1.0)):
        np.testing.assert_allclose(radius[clean.y_train == c], r, atol=1e-5)
    noisy = make_dataset("rings", n_classes=2, noise=0.3)
    noisy_r = np.hypot(*noisy.raw(noisy.X_train).astype(np.float64).T)
    assert np.abs(noisy_r[noisy.y_train == 1] - 1.0).mean() > 0.1


def test_spirals_noise_moves_points():
    a = make_dataset("spirals", noise=0.0)
    b = make_dataset("spirals", noise=0.5)
    assert not np.allclose(a.raw(a.X_train), b.raw(b.X_train))


def test_val_fraction_controls_split():
    ds = make_dataset("moons", n_classes=2, n_samples=100, val_fraction=0.3)
    assert (len(ds.y_train), len(ds.y_val)) == (70, 30)


def test_digits():
    ds = make_dataset("digits", n_classes=4, noise=5.0)  # both ignored
    assert len(ds.y_train) + len(ds.y_val) == 1797
    assert ds.n_features == 64 and ds.image_shape == (8, 8)
    assert ds.n_classes == 10 and ds.class_names == tuple("0123456789")
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_val]))) == set(range(10))
    raw = ds.raw(ds.X_train)
    assert raw.min() > -1e-3 and raw.max() < 16 + 1e-3
    assert np.allclose(raw, np.round(raw), atol=1e-3)  # pixel counts survive the round trip


def test_load_dataset_dispatches_names_and_paths(tmp_path):
    a = load_dataset("Spirals", seed=1)
    np.testing.assert_array_equal(a.X_train, make_dataset("spirals", seed=1).X_train)
    p = tmp_path / "d.npz"
    np.savez(p, X=np.arange(20.0).reshape(10, 2), y=np.arange(10) % 2)
    ds = load_dataset(p)
    assert ds.name == "d.npz" and ds.n_classes == 2
    with pytest.raises(DataError, match="unknown data set 'nonexistent'; choose one of spirals"):
        load_dataset("nonexistent")
    with pytest.raises(DataError, match="missing.csv: file not found"):
        load_dataset(tmp_path / "missing.csv")


def test_arrays_are_read_only():
    ds = make_dataset("blobs")
    with pytest.raises(ValueError):
        ds.X_train[0, 0] = 1.0


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_classes": 1}, "n_classes must be 2..10"),
        ({"n_classes": 11}, "n_classes must be 2..10"),
        ({"noise": -0.1}, "noise must be >= 0"),
        ({"n_samples": 5, "n_classes": 3}, "n_samples must be at least 6"),
        ({"val_fraction": 0.0}, "val_fraction"),
        ({"val_fraction": 1.0}, "val_fraction"),
    ],
)
def test_bad_generator_parameters(kwargs, match):
    with pytest.raises(DataError, match=match):
        make_dataset("spirals", **kwargs)


def test_unknown_name():
    with pytest.raises(DataError, match="unknown data set 'swirls'"):
        make_dataset("swirls")


def test_xor_ignores_n_classes():
    assert make_dataset("xor", n_classes=7).n_classes == 2


def test_standardize_split_with_given_validation_and_constant_feature():
    X = np.c_[np.arange(10.0), np.full(10, 0.1)]
    y = np.arange(10) % 3
    X_val, y_val = np.array([[4.5, 0.1]]), np.array([5])
    ds = standardize_split(X, y, val_fraction=0.5, seed=0, name="t", X_val=X_val, y_val=y_val)
    assert len(ds.y_train) == 10 and len(ds.y_val) == 1
    assert ds.n_classes == 6  # max label + 1 across train and validation
    assert ds.std[1] == 1 and np.allclose(ds.X_train[:, 1], 0, atol=1e-6)
    np.testing.assert_allclose(ds.X_val[0], [0.0, 0.0], atol=1e-6)
    assert isinstance(ds, Dataset)


def test_standardize_split_keeps_one_example_each_side():
    X, y = np.arange(4.0).reshape(2, 2), np.array([0, 1])
    for vf in (0.01, 0.99):
        ds = standardize_split(X, y, val_fraction=vf, seed=0, name="t")
        assert len(ds.y_train) == 1 and len(ds.y_val) == 1
    with pytest.raises(DataError, match="t: needs at least 2 examples"):
        standardize_split(X[:1], y[:1], val_fraction=0.5, seed=0, name="t")


def test_integer_features_standardize_exactly_as_their_float_values():
    """uint8 pixels are standardized in their own type, block by block (no float64 copy of the
    whole set): the result is the one of the same values given as float64, bit for bit."""
    rng = np.random.default_rng(3)
    X = rng.integers(0, 256, size=(300, 7)).astype(np.uint8)
    X[:, 2] = 9  # a constant feature: std 1
    y = rng.integers(0, 3, size=300)
    a = standardize_split(X, y, val_fraction=0.2, seed=5, name="u8")
    b = standardize_split(X.astype(np.float64), y, val_fraction=0.2, seed=5, name="f64")
    for name in ("X_train", "X_val", "y_train", "y_val", "mean", "std"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    np.testing.assert_allclose(a.X_train.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(a.X_train[:, [0, 1, 3]].std(axis=0), 1, rtol=1e-5)


def test_standardizing_in_blocks_matches_the_whole_array_formula(monkeypatch):
    from bnviz.data import dataset

    monkeypatch.setattr(dataset, "BLOCK_VALUES", 10)  # blocks of 3 rows of 3 features
    X = np.random.default_rng(0).normal(5.0, 3.0, size=(50, 3))
    ds = standardize_split(X, np.arange(50) % 2, val_fraction=0.2, seed=0, name="b")
    order = np.random.default_rng(0).permutation(50)
    train = X[order][10:]
    np.testing.assert_allclose(ds.mean, train.mean(axis=0), rtol=1e-6)
    np.testing.assert_allclose(ds.std, train.std(axis=0), rtol=1e-6)
    expected = (train - train.mean(axis=0)) / train.std(axis=0)
    np.testing.assert_allclose(ds.X_train, expected, rtol=1e-5, atol=1e-6)


def test_extent_spans_training_and_validation_rows():
    X = np.array([[0.0, 5.0], [1.0, -2.0], [2.0, 0.0], [3.0, 1.0]])
    ds = standardize_split(X, np.array([0, 1, 0, 1]), val_fraction=0.5, seed=0, name="e")
    both = np.vstack([ds.X_train, ds.X_val])
    lo, hi = ds.extent
    np.testing.assert_array_equal(lo, both.min(axis=0))
    np.testing.assert_array_equal(hi, both.max(axis=0))
    assert ds.extent is ds.extent  # computed once
