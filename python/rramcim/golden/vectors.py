"""Frozen golden vectors: ``<dir>/<module>/<case>.npz`` plus a ``<case>.json`` manifest.

Benches call live golden models; vectors are frozen only at boundaries (trained-network data,
hand-off to other tools). The manifest is the single source of the DUT parameters of a case:

.. code-block:: json

    {"module": "cim_xbar_path", "case": "smoke",
     "generator": "rramcim.golden.cases:xbar_path_smoke",
     "package_version": "0.1.0", "seed": 1, "params": {"N_ROWS": 32, ...},
     "arrays": {"x": {"width": 4, "signed": true, "shape": [16, 64]}, ...},
     "sha256": "<hash of the arrays, see array_digest>"}

Loading checks the manifest against the arrays: a missing field, a wrong shape, a value that
does not fit its width, or a hash mismatch is a :class:`VectorFileError` naming the file and
the field. ``$readmemh`` files are derived on demand (:func:`write_readmemh`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import rramcim
from rramcim.fixedpoint import int_range

MANIFEST_FIELDS = (
    "module",
    "case",
    "generator",
    "package_version",
    "seed",
    "params",
    "arrays",
    "sha256",
)
ARRAY_FIELDS = ("width", "signed", "shape")


class VectorFileError(ValueError):
    """A vector file or its manifest is inconsistent; the message names the file and field."""


@dataclass(frozen=True)
class ArraySpec:
    """Declared format of one array: element width in bits, signedness and shape."""

    width: int
    signed: bool
    shape: tuple[int, ...]


@dataclass
class VectorSet:
    """A loaded, checked vector case."""

    path: Path
    manifest: dict[str, Any]
    arrays: dict[str, np.ndarray]

    @property
    def params(self) -> dict[str, Any]:
        """DUT parameters of the case."""
        return self.manifest["params"]


def array_digest(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the arrays in name order: name, shape and little-endian int64 bytes."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(np.asarray(arrays[name], dtype="<i8"))
        h.update(name.encode() + b"\0" + repr(tuple(a.shape)).encode() + b"\0")
        h.update(a.tobytes())
    return h.hexdigest()


def save_vectors(
    root: Path | str,
    module: str,
    case: str,
    generator: str,
    seed: int,
    params: dict[str, Any],
    arrays: dict[str, tuple[np.ndarray, int, bool]],
) -> Path:
    """Write ``<root>/<module>/<case>.npz`` and its manifest; returns the manifest path.

    Args:
        root: vector root folder (``tests/vectors`` for committed cases).
        module: RTL module (or path) the case is for.
        case: case name.
        generator: ``module:function`` that produced it.
        seed: seed of the generator.
        params: DUT parameters.
        arrays: name -> (integer array, width in bits, signed).

    Raises:
        VectorFileError: if an array does not fit its declared width.
    """
    out = Path(root) / module
    out.mkdir(parents=True, exist_ok=True)
    data: dict[str, np.ndarray] = {}
    specs: dict[str, dict[str, Any]] = {}
    for name, (arr, width, signed) in arrays.items():
        a = np.asarray(arr)
        if not np.issubdtype(a.dtype, np.integer) and a.dtype != bool:
            raise VectorFileError(
                f"{out / case}.npz: array '{name}' must be integer, got {a.dtype}"
            )
        a = a.astype(np.int64)
        _check_width(out / f"{case}.npz", name, a, width, signed)
        data[name] = a
        specs[name] = {"width": int(width), "signed": bool(signed), "shape": list(a.shape)}
    manifest = {
        "module": module,
        "case": case,
        "generator": generator,
        "package_version": rramcim.__version__,
        "seed": int(seed),
        "params": params,
        "arrays": specs,
        "sha256": array_digest(data),
    }
    np.savez_compressed(out / f"{case}.npz", **data)
    mpath = out / f"{case}.json"
    mpath.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return mpath


def _check_width(path: Path, name: str, a: np.ndarray, width: int, signed: bool) -> None:
    if a.size == 0:
        return
    lo, hi = int_range(int(width), bool(signed))
    bad = np.flatnonzero((a < lo) | (a > hi))
    if bad.size:
        i = int(bad[0])
        raise VectorFileError(
            f"{path}: array '{name}' element {tuple(int(j) for j in np.unravel_index(i, a.shape))}"
            f" = {int(a.flat[i])} does not fit "
            f"width {width} ({'signed' if signed else 'unsigned'}, [{lo}, {hi}])"
        )


def load_vectors(manifest_path: Path | str) -> VectorSet:
    """Load a vector case and check it against its manifest.

    Raises:
        VectorFileError: naming the file and the field for every inconsistency.
        FileNotFoundError: if the manifest or the npz is missing.
    """
    mpath = Path(manifest_path)
    try:
        manifest = json.loads(mpath.read_text())
    except json.JSONDecodeError as e:
        raise VectorFileError(f"{mpath}: not valid JSON ({e})") from e
    if not isinstance(manifest, dict):
        raise VectorFileError(f"{mpath}: manifest must be a JSON object")
    for f in MANIFEST_FIELDS:
        if f not in manifest:
            raise VectorFileError(f"{mpath}: manifest field '{f}' is missing")
    if not isinstance(manifest["arrays"], dict):
        raise VectorFileError(f"{mpath}: manifest field 'arrays' must be an object")
    npz = mpath.with_suffix(".npz")
    if not npz.exists():
        raise FileNotFoundError(f"{npz}: vector data for manifest {mpath} not found")
    with np.load(npz) as z:
        arrays = {k: z[k] for k in z.files}
    for name, spec in manifest["arrays"].items():
        for f in ARRAY_FIELDS:
            if not isinstance(spec, dict) or f not in spec:
                raise VectorFileError(f"{mpath}: field 'arrays.{name}.{f}' is missing")
        if name not in arrays:
            raise VectorFileError(f"{npz}: array '{name}' declared in the manifest is missing")
        a = arrays[name]
        if list(a.shape) != list(spec["shape"]):
            raise VectorFileError(
                f"{npz}: array '{name}' has shape {list(a.shape)}, manifest field "
                f"'arrays.{name}.shape' says {spec['shape']}"
            )
        _check_width(npz, name, a, int(spec["width"]), bool(spec["signed"]))
    extra = sorted(set(arrays) - set(manifest["arrays"]))
    if extra:
        raise VectorFileError(
            f"{npz}: array(s) {extra} are not declared in the manifest field 'arrays'"
        )
    digest = array_digest(arrays)
    if digest != manifest["sha256"]:
        raise VectorFileError(
            f"{npz}: content hash {digest[:16]}... does not match manifest field 'sha256' "
            f"({str(manifest['sha256'])[:16]}...): the file was modified or corrupted"
        )
    return VectorSet(path=mpath, manifest=manifest, arrays=arrays)


def write_readmemh(path: Path | str, values: np.ndarray, width: int) -> Path:
    """Write a ``$readmemh`` file: a word per line, two's complement, ``ceil(width/4)`` digits."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    digits = -(-int(width) // 4)
    mask = (1 << int(width)) - 1
    lines = [format(int(v) & mask, f"0{digits}x") for v in np.asarray(values).reshape(-1)]
    p.write_text("\n".join(lines) + "\n")
    return p


def read_readmemh(path: Path | str, width: int, signed: bool) -> np.ndarray:
    """Read back a file written by :func:`write_readmemh`."""
    vals = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        s = line.split("//")[0].strip()
        if not s:
            continue
        try:
            u = int(s, 16)
        except ValueError as e:
            raise VectorFileError(f"{path}:{n}: '{s}' is not a hex word") from e
        if signed and u >= 1 << (width - 1):
            u -= 1 << width
        vals.append(u)
    return np.asarray(vals, dtype=np.int64)
