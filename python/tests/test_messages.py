"""Error messages name what was wrong, once (issue 13, item 8): ids out of
range and non-finite queries in a batch, on every index type."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import ruvector
from conftest import ALL, AnyIndexClass, F32

RANGE = "ids are unsigned 64-bit integers: 0..2**64-1"


def test_ids_past_2_64_or_negative_name_the_id_and_the_range() -> None:
    # NumPy makes [2**64, 1] an object array and [2**63, -1] a float64 one;
    # the message names the element, never the dtype NumPy chose.
    data = np.ones((2, 4), np.float32)
    with pytest.raises(ValueError) as info:
        ruvector.FlatF32Index.build(data, ids=[1, 2**64])
    msg = str(info.value)
    assert msg == f"ids[1] = 18446744073709551616 is out of range: {RANGE}", msg
    with pytest.raises(ValueError) as info:
        ruvector.FlatF32Index.build(data, ids=[2**63, -1])
    assert str(info.value) == f"ids[1] = -1 is out of range: {RANGE}"
    assert "float64" not in str(info.value)


def test_out_of_range_ids_in_arrays_name_the_position() -> None:
    data = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError) as info:
        ruvector.FlatF32Index.build(data, ids=np.array([0, -7, 2], dtype=np.int64))
    assert str(info.value) == f"ids[1] = -7 is out of range: {RANGE}"
    idx = ruvector.FlatF32Index.build(data, ids=[0, 1, 2])
    with pytest.raises(ValueError, match=r"^filter\[1\] = -1 is out of range"):
        idx.search(data[0], 1, filter=[1, -1])
    with pytest.raises(ValueError, match=r"^ids\[0\] = 18446744073709551616 is out of range"):
        idx.remove([2**64])


def test_non_integer_ids_name_the_element() -> None:
    data = np.ones((2, 4), np.float32)
    with pytest.raises(TypeError) as info:
        ruvector.FlatF32Index.build(data, ids=[1, 2.5])
    assert str(info.value) == "ids[1] = 2.5 is a float, not an integer id"
    with pytest.raises(TypeError, match=r"^ids: expected integer ids, got an array of float64$"):
        ruvector.FlatF32Index.build(data, ids=np.array([1.0, 2.0]))
    # The largest ids go through and come back unchanged.
    idx = ruvector.FlatF32Index.build(data, ids=[2**64 - 1, 2**63])
    assert idx.ids.tolist() == [2**64 - 1, 2**63]


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize(
    "value,word", [(np.nan, "NaN"), (np.inf, "infinite"), (-np.inf, "infinite")]
)
def test_non_finite_query_in_a_batch_names_row_and_column_once(
    cls: AnyIndexClass, value: float, word: str, small: F32
) -> None:
    idx = cls.build(small[:500])
    queries = small[:5].copy()
    queries[3, 1] = value
    with pytest.raises(ruvector.InvalidArgument) as info:
        idx.search_batch(queries, 3)
    msg = str(info.value)
    assert msg == f"query row 3, column 1 is {word}", msg
    assert info.value.status_name == "RUV_E_INVAL"


def test_explicit_blas_path_that_fails_is_an_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ruvector.NotFoundError) as info:
        ruvector.Engine(blas="/nonexistent/libblas.so")
    assert "BLAS '/nonexistent/libblas.so' cannot be used" in str(info.value)
    junk = tmp_path / "libopenblas.so.0"
    junk.write_bytes(b"not a library" * 100)
    with pytest.raises(ruvector.NotFoundError, match="libopenblas.so.0"):
        ruvector.Engine(blas=junk)


def test_garbage_kernel_plugin_says_why(tmp_path: Path) -> None:
    (tmp_path / "avx2.so").write_bytes(bytes(range(256)) * 16)
    eng = ruvector.Engine(plugin_path=tmp_path)
    avx2 = [p for p in ruvector.runtime_info(eng)["plugins"] if p["name"] == "avx2"]
    assert avx2, ruvector.runtime_info(eng)["plugins"]
    reason = str(avx2[0]["reason"])
    assert "(null)" not in reason and "file not found" not in reason, reason
    assert "avx2.so" in reason, reason
