"""Loading user .npz/.csv files: good files load, every bad file gets one clear message."""

from __future__ import annotations

import numpy as np
import pytest

from bnviz.data import DataError
from bnviz.data.files import load_csv_arrays, load_file, load_npz_arrays

RNG = np.random.default_rng(0)
X_OK = RNG.standard_normal((20, 3))
Y_OK = np.arange(20) % 3


def npz(tmp_path, name="data.npz", **arrays):
    p = tmp_path / name
    np.savez(p, **arrays)
    return p


def csv_file(tmp_path, text, name="data.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# ---- good files ---------------------------------------------------------------------------


def test_plain_npz_loads(tmp_path):
    ds = load_file(npz(tmp_path, X=X_OK, y=Y_OK), val_fraction=0.25, seed=1)
    assert ds.name == "data.npz" and ds.n_classes == 3 and ds.n_features == 3
    assert (len(ds.y_train), len(ds.y_val)) == (15, 5)
    assert ds.X_train.dtype == np.float32 and ds.y_train.dtype == np.int64
    assert ds.image_shape is None
    # rows survive intact (shuffled): undoing standardization gives the original rows back
    back = np.concatenate([ds.raw(ds.X_train), ds.raw(ds.X_val)])
    order = np.lexsort(back.T)
    np.testing.assert_allclose(back[order], X_OK[np.lexsort(X_OK.T)], rtol=1e-5, atol=1e-5)


def test_float_integer_labels_become_the_classes_present_with_their_names(tmp_path):
    y = np.array([0.0, 7.0] * 10)  # labels {0, 7}: 2 classes, not 8
    ds = load_file(npz(tmp_path, X=X_OK, y=y))
    assert ds.n_classes == 2 and ds.class_names == ("0", "7")
    assert set(np.concatenate([ds.y_train, ds.y_val])) == {0, 1}
    # each row keeps its own label: class 1 is exactly the rows labelled 7
    X_all = np.concatenate([ds.raw(ds.X_train), ds.raw(ds.X_val)])
    y_all = np.concatenate([ds.y_train, ds.y_val])
    ones, sevens = X_all[y_all == 1], X_OK[y == 7.0]
    np.testing.assert_allclose(
        ones[np.lexsort(ones.T)], sevens[np.lexsort(sevens.T)], rtol=1e-5, atol=1e-5
    )


def test_data_too_small_to_train_and_validate_on_is_refused(tmp_path):
    p = csv_file(tmp_path, "1,2,0\n3,4,1\n5,6,0\n")  # 3 rows: one validation example
    with pytest.raises(
        DataError, match="data.csv: 2 training and 1 validation examples are too few"
    ):
        load_file(p)
    rows = "\n".join(f"{i},{i % 2}" for i in range(10))  # 10 rows: 8 + 2 is enough
    ds = load_file(csv_file(tmp_path, rows + "\n"))
    assert (len(ds.y_train), len(ds.y_val)) == (8, 2)


def test_keras_layout_with_images(tmp_path):
    x_train = RNG.integers(0, 255, (12, 5, 4)).astype(np.uint8)
    x_test = RNG.integers(0, 255, (6, 5, 4)).astype(np.uint8)
    y_train, y_test = np.arange(12) % 4, (np.arange(6) % 5).reshape(6, 1)
    p = npz(tmp_path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    X, y, X_val, y_val, shape = load_npz_arrays(p)
    assert X.shape == (12, 20) and X_val.shape == (6, 20) and shape == (5, 4)
    assert y_val.shape == (6,)
    ds = load_file(p)
    assert ds.image_shape == (5, 4) and ds.n_features == 20
    assert len(ds.y_train) == 12 and len(ds.y_val) == 6  # x_test is the validation set
    assert ds.n_classes == 5  # max label over train AND validation
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0, atol=1e-5)


def test_csv_with_header(tmp_path):
    rows = "\n".join(f"{a},{b},{c}" for a, b, c in zip(range(8), range(8, 16), [0, 1] * 4))
    p = csv_file(tmp_path, "width,height,label\n" + rows + "\n\n")
    X, y = load_csv_arrays(p)
    assert X.shape == (8, 2) and y.tolist() == [0, 1] * 4 and y.dtype == np.int64
    assert load_file(p).n_classes == 2


def test_csv_without_header_single_feature(tmp_path):
    p = csv_file(tmp_path, "0.5,0\n1.5,1\n2.5,1.0\n3.5,0\n")
    X, y = load_csv_arrays(p)
    assert X.shape == (4, 1) and y.tolist() == [0, 1, 1, 0]


# ---- bad files ----------------------------------------------------------------------------


def test_file_not_found(tmp_path):
    with pytest.raises(DataError, match="nope.npz: file not found"):
        load_file(tmp_path / "nope.npz")


def test_unknown_extension(tmp_path):
    p = tmp_path / "data.txt"
    p.write_text("1,2,0\n")
    with pytest.raises(DataError, match=r"data.txt: unknown file type '.txt'.*\.npz or \.csv"):
        load_file(p)


@pytest.mark.parametrize("name", ["data.npz", "data.csv"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(DataError, match=f"{name}: file is empty"):
        load_file(tmp_path / name)


def test_garbage_npz(tmp_path):
    p = tmp_path / "data.npz"
    p.write_bytes(b"this is not a zip archive at all \x00\x01\x02" * 10)
    with pytest.raises(DataError, match="data.npz: not an .npz archive") as e:
        load_file(p)
    assert "pickle" not in str(e.value)  # never suggest loading it unsafely


def test_npy_named_npz(tmp_path):
    p = tmp_path / "data.npz"
    with open(p, "wb") as fh:
        np.save(fh, X_OK)
    with pytest.raises(DataError, match="single array, not an .npz archive"):
        load_file(p)


def test_object_array_refused_not_unpickled(tmp_path):
    p = tmp_path / "data.npz"
    np.savez(p, X=np.array([[1, "a"], [2, None]], dtype=object), y=np.array([0, 1]))
    with pytest.raises(DataError, match=r"array 'X' holds Python objects \(dtype=object\)"):
        load_file(p)


def test_missing_keys_lists_found_and_expected(tmp_path):
    p = npz(tmp_path, X=X_OK, labels=Y_OK)
    with pytest.raises(DataError, match=r"missing array 'y'; found 'X', 'labels'; expected"):
        load_file(p)


def test_partial_keras_layout_names_missing(tmp_path):
    p = npz(tmp_path, x_train=X_OK, y_train=Y_OK)
    with pytest.raises(DataError, match="missing array 'x_test', 'y_test'"):
        load_file(p)


def test_string_array_refused(tmp_path):
    p = npz(tmp_path, X=X_OK, y=np.array(["a", "b"] * 10))
    with pytest.raises(DataError, match="array 'y' has dtype <U1, expected numbers"):
        load_file(p)


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.arange(20.0), Y_OK, r"feature array 'X' must be 2-D .* shape \(20,\)"),
        (X_OK, np.zeros((20, 3)), r"label array 'y' must be 1-D, got shape \(20, 3\).*one-hot"),
        (X_OK, Y_OK[:19], "feature array 'X' has 20 rows but label array 'y' has 19 labels"),
        (np.zeros((0, 3)), np.zeros(0), r"feature array 'X' has no examples \(0 rows\)"),
        (np.zeros((20, 0)), Y_OK, "feature array 'X' has 0 features"),
    ],
)
def test_wrong_shapes(tmp_path, X, y, match):
    with pytest.raises(DataError, match=match):
        load_file(npz(tmp_path, X=X, y=y))


def test_nan_and_inf_counted(tmp_path):
    X = X_OK.copy()
    X[0, 0] = X[3, 1] = X[5, 2] = np.nan
    with pytest.raises(DataError, match="data.npz: feature array 'X' has 3 NaN values"):
        load_file(npz(tmp_path, X=X, y=Y_OK))
    X = X_OK.copy()
    X[1, 1], X[2, 2] = np.inf, -np.inf
    with pytest.raises(DataError, match="feature array 'X' has 2 infinite values"):
        load_file(npz(tmp_path, X=X, y=Y_OK))
    y = Y_OK.astype(float)
    y[4] = np.nan
    with pytest.raises(DataError, match="label array 'y' has 1 NaN values"):
        load_file(npz(tmp_path, X=X_OK, y=y))


def test_non_integer_labels(tmp_path):
    y = Y_OK.astype(float)
    y[2] = 1.5
    with pytest.raises(DataError, match=r"non-integer labels \(e.g. 1.5\)"):
        load_file(npz(tmp_path, X=X_OK, y=y))


def test_negative_labels(tmp_path):
    with pytest.raises(DataError, match=r"negative labels \(e.g. -1\)"):
        load_file(npz(tmp_path, X=X_OK, y=Y_OK - 1))


def test_single_class(tmp_path):
    with pytest.raises(DataError, match="data.npz: all labels are 2; need at least 2 classes"):
        load_file(npz(tmp_path, X=X_OK, y=np.full(20, 2)))


def test_huge_label_refused(tmp_path):
    y = Y_OK.copy()
    y[0] = 123456
    with pytest.raises(DataError, match="label 123456"):
        load_file(npz(tmp_path, X=X_OK, y=y))


def test_keras_feature_mismatch(tmp_path):
    p = npz(
        tmp_path,
        x_train=np.zeros((4, 5, 5)),
        y_train=np.array([0, 1, 0, 1]),
        x_test=np.zeros((2, 4, 4)),
        y_test=np.array([0, 1]),
    )
    with pytest.raises(DataError, match="'x_test' has 16 features per row but 'x_train' has 25"):
        load_file(p)


def test_single_example_cannot_be_split(tmp_path):
    p = csv_file(tmp_path, "1,0\n")
    with pytest.raises(DataError, match="all labels are 0"):
        load_file(p)
    p = npz(tmp_path, X=np.ones((1, 2)), y=np.array([1]))
    with pytest.raises(DataError, match="need at least 2 classes"):
        load_file(p)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("a,b,label\n", "data.csv: no data rows"),
        ("\n\n  \n", "data.csv: no data rows"),
        ("1,2,0\n3,x,1\n", r"row 2, column 2: 'x' is not a number"),
        ("1,2,0\n3,4,1\n5,,1\n", r"row 3, column 2: '' is not a number"),
        ("1,2,0\n3,4\n", "row 2 has 2 columns, expected 3"),
        ("1\n2\n", "needs at least 2 comma-separated columns"),
        ("1,2,0\n3,4,0.5\n", r"label column has 1 non-integer labels \(e.g. 0.5\)"),
        ("1,2,0\n3,4,-2\n", r"negative labels \(e.g. -2\)"),
        ("1,nan,0\n3,4,1\n", "features has 1 NaN values"),
    ],
)
def test_bad_csv(tmp_path, text, match):
    with pytest.raises(DataError, match=match):
        load_file(csv_file(tmp_path, text))


def test_binary_csv(tmp_path):
    p = tmp_path / "data.csv"
    p.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(DataError, match="data.csv: not a text file"):
        load_file(p)


def test_a_large_csv_reads_fast_with_progress_and_can_be_cancelled(tmp_path):
    from bnviz.data.files import LoadCancelled, load_csv_arrays

    rng = np.random.default_rng(0)
    X = np.round(rng.normal(size=(250_000, 2)), 4)
    y = rng.integers(0, 3, len(X))
    p = tmp_path / "big.csv"
    with p.open("w") as fh:
        fh.write("a,b,label\n")
        np.savetxt(fh, np.column_stack([X, y]), fmt=["%.4f", "%.4f", "%d"], delimiter=",")
    seen: list[float] = []
    Xr, yr = load_csv_arrays(p, seen.append)
    np.testing.assert_allclose(Xr, X)
    np.testing.assert_array_equal(yr, y)
    assert len(seen) >= 3 and seen == sorted(seen) and seen[-1] == 1.0

    def cancel(share: float) -> None:
        raise LoadCancelled

    with pytest.raises(LoadCancelled):
        load_csv_arrays(p, cancel)
