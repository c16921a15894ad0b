"""The generator of the big files the GUI benchmark is measured on, at a small size: files in
the layouts bnviz reads, the same bytes from the same seed (no Qt)."""

from __future__ import annotations

import numpy as np

from bnviz.bench import bigdata
from bnviz.data.files import load_file, load_npz_arrays


def test_mnist_like_is_keras_layout_uint8_images_of_ten_classes(tmp_path):
    path = bigdata.write_mnist_like(tmp_path / "m.npz", n_train=200, n_test=50)
    with np.load(path) as f:
        assert {k: (f[k].shape, f[k].dtype) for k in f.files} == {
            "x_train": ((200, 28, 28), np.uint8),
            "y_train": ((200,), np.uint8),
            "x_test": ((50, 28, 28), np.uint8),
            "y_test": ((50,), np.uint8),
        }
    ds = load_file(path)
    assert ds.image_shape == (28, 28) and ds.n_classes == 10
    assert (len(ds.y_train), len(ds.y_val)) == (200, 50)  # the test part is the validation set


def test_mnist_like_classes_differ_more_than_images_of_one_class():
    """Learnable: an image is nearer its own class's mean image than another class's."""
    rng = np.random.default_rng(1)
    patterns = bigdata.class_patterns(rng)
    y = np.repeat(np.arange(10), 40)
    X = bigdata.mnist_like_images(y, patterns, rng).reshape(len(y), -1).astype(float)
    means = np.stack([X[y == k].mean(axis=0) for k in range(10)])
    nearest = ((X[:, None, :] - means[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert (nearest == y).mean() > 0.9


def test_spirals_csv_has_a_header_three_labels_and_repeats_from_its_seed(tmp_path):
    a = bigdata.write_spirals_csv(tmp_path / "a.csv", rows=300, seed=4)
    b = bigdata.write_spirals_csv(tmp_path / "b.csv", rows=300, seed=4)
    assert a.read_bytes() == b.read_bytes()
    lines = a.read_text().splitlines()
    assert lines[0] == "x1,x2,label" and len(lines) == 301
    ds = load_file(a)
    assert ds.n_features == 2 and ds.n_classes == 3


def test_integer_pixels_are_read_without_a_float_copy(tmp_path):
    path = bigdata.write_mnist_like(tmp_path / "m.npz", n_train=20, n_test=10)
    X, *_ = load_npz_arrays(path)
    assert X.dtype == np.uint8 and X.shape == (20, 784)
