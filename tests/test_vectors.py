"""Tests of the golden-vector format (rramcim.golden.vectors) and of the committed cases."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rramcim.golden.cases import CASES, VECTOR_ROOT, xbar_path_macro_from_manifest
from rramcim.golden.vectors import (
    VectorFileError,
    load_vectors,
    read_readmemh,
    save_vectors,
    write_readmemh,
)
from rramcim.golden.xbar_path import run_read_path


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    return save_vectors(
        tmp_path,
        "blk",
        "c",
        "tests:case",
        3,
        {"W": 4},
        {"a": (np.array([[1, -2], [3, -4]]), 4, True), "b": (np.arange(5), 3, False)},
    )


def test_roundtrip(case: Path) -> None:
    vs = load_vectors(case)
    assert vs.params == {"W": 4}
    assert vs.arrays["a"].tolist() == [[1, -2], [3, -4]]
    assert vs.manifest["arrays"]["b"] == {"width": 3, "signed": False, "shape": [5]}


def test_corrupted_data_is_caught(case: Path) -> None:
    npz = case.with_suffix(".npz")
    with np.load(npz) as z:
        data = {k: z[k].copy() for k in z.files}
    data["a"][0, 0] = 2
    np.savez(npz, **data)
    with pytest.raises(
        VectorFileError, match=r"c\.npz: content hash .* does not match manifest field 'sha256'"
    ):
        load_vectors(case)


def test_truncated_npz_is_an_error(case: Path) -> None:
    npz = case.with_suffix(".npz")
    npz.write_bytes(npz.read_bytes()[:40])
    with pytest.raises((VectorFileError, zipfile.BadZipFile, ValueError, OSError)):
        load_vectors(case)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m.pop("seed"), "manifest field 'seed' is missing"),
        (lambda m: m["arrays"]["a"].pop("width"), "field 'arrays.a.width' is missing"),
        (
            lambda m: m["arrays"]["a"].__setitem__("shape", [4]),
            r"array 'a' has shape \[2, 2\], manifest field 'arrays.a.shape'",
        ),
        (
            lambda m: m["arrays"]["a"].__setitem__("width", 2),
            r"array 'a' element .* does not fit width 2",
        ),
        (lambda m: m["arrays"].pop("b"), r"array\(s\) \['b'\] are not declared"),
    ],
)
def test_manifest_mismatch_names_file_and_field(case: Path, edit, match: str) -> None:  # noqa: ANN001
    m = json.loads(case.read_text())
    edit(m)
    case.write_text(json.dumps(m))
    with pytest.raises(VectorFileError, match=match):
        load_vectors(case)


def test_save_rejects_values_wider_than_declared(tmp_path: Path) -> None:
    with pytest.raises(VectorFileError, match=r"array 'x' element \(1,\) = 8 does not fit width 4"):
        save_vectors(tmp_path, "m", "c", "g", 0, {}, {"x": (np.array([0, 8]), 4, True)})


def test_readmemh_roundtrip(tmp_path: Path) -> None:
    v = np.array([-8, -1, 0, 7, 3])
    p = write_readmemh(tmp_path / "x.mem", v, 4)
    assert p.read_text().split() == ["8", "f", "0", "7", "3"]
    assert read_readmemh(p, 4, signed=True).tolist() == v.tolist()


@pytest.mark.parametrize("name", list(CASES))
def test_committed_vectors_regenerate_identically(name: str, tmp_path: Path) -> None:
    committed = load_vectors(VECTOR_ROOT / f"{name}.json")
    fresh = load_vectors(CASES[name](tmp_path))
    assert fresh.params == committed.params, "generator parameters changed: run `make golden`"
    for k in committed.arrays:
        assert np.array_equal(fresh.arrays[k], committed.arrays[k]), (
            f"array '{k}' differs: run `make golden`"
        )
    assert fresh.manifest["sha256"] == committed.manifest["sha256"]


def test_xbar_path_case_rebuilds_from_manifest() -> None:
    vs = load_vectors(VECTOR_ROOT / "cim_xbar_path" / "smoke.json")
    macro, rp = xbar_path_macro_from_manifest(vs.params)
    g = macro.device.g_step_S
    import torch

    macro.set_conductances(
        torch.from_numpy(vs.arrays["g_pos"] * g), torch.from_numpy(vs.arrays["g_neg"] * g)
    )
    res = run_read_path(macro, vs.arrays["x"], rp, keep_codes=True)
    assert np.array_equal(res.acc, vs.arrays["acc"])
    assert np.array_equal(res.codes, vs.arrays["codes"])
