"""Neural ODE dh/dt = f_theta(h, u(t)) with a plain MLP vector field, and its checkpoints.

The vector field (the object the analogue closed-loop solver maps onto crossbars) has one of
two input modes (:class:`InputMode`). ``CONCAT`` (any number of inputs, or none)::

    z_0 = concat((h - h_offset) / h_scale, u / u_scale)       fixed scale constants
    z_k = act(W_k z_{k-1} + b_k),  k = 1..L-1                  act = tanh (or ReLU)
    dh/dt = rate_scale * (W_L z_{L-1} + b_L)                   no activation on the last layer

``AFFINE`` (control-affine, exactly one input): the MLP sees the state only and its output is
multiplied by the normalised drive::

    z_0 = (h - h_offset) / h_scale
    dh/dt = rate_scale * (u / u_scale) * (W_L z_{L-1} + b_L)

This is the structure of a drive-affine system such as the HP memristor, ``dw/dt = v(t) G(w)``:
the field vanishes with the drive, so the state is a function of the drive's flux for *any*
MLP (also a perturbed one), and a field error changes that function instead of accumulating
as drift under a zero-mean drive.

``W_k`` has the ``torch.nn.Linear`` orientation ``[out, in]``. The scale constants are fixed
(computed once from the training data, never trained) and travel with the checkpoint, so the
MLP itself sees inputs and produces outputs of order one; an analogue implementation may fold
them into the first layer's weights/biases and the integrator gain. :func:`vector_field`
evaluates the field for *explicit* weight matrices (e.g. a noisy or quantised copy);
:meth:`MLPVectorField.forward` calls it with the module's own parameters, so both agree bit
for bit.

Time is the unit of the data: seconds for the HP twin, model time units for Lorenz96.
Integration uses torchdiffeq's ``odeint`` (fixed-step ``rk4`` -- torchdiffeq's 3/8-rule RK4 --
by default; any of its methods can be asked for).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torchdiffeq import odeint

ASSETS = Path(__file__).resolve().parents[2] / "assets"
"""Folder of the shipped checkpoints (``twin_hp.npz``, ``twin_l96.npz``)."""


class Activation(enum.Enum):
    """Hidden-layer activation of the vector-field MLP."""

    TANH = "tanh"
    RELU = "relu"

    def fn(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The torch function."""
        return torch.tanh if self is Activation.TANH else torch.relu


class InputMode(enum.Enum):
    """How the drive input enters the vector field (see the module docstring).

    ``CONCAT``: the MLP sees ``concat(state, input)``; ``AFFINE``: the MLP sees the state and
    its output is multiplied by the (single, normalised) input.
    """

    CONCAT = "concat"
    AFFINE = "affine"


@dataclass(frozen=True)
class Scales:
    """Fixed normalisation constants of the vector field (part of the checkpoint).

    Attributes:
        h_offset: subtracted from the state, per state component [n_state] (state units).
        h_scale: divides the centred state, per state component [n_state], > 0.
        u_scale: divides the input, per input component [n_input] (input units, e.g. V), > 0;
            empty for an autonomous system.
        rate_scale: multiplies the MLP output, per state component [n_state], > 0 (state
            units per time unit).
    """

    h_offset: tuple[float, ...]
    h_scale: tuple[float, ...]
    u_scale: tuple[float, ...]
    rate_scale: tuple[float, ...]

    def __post_init__(self) -> None:
        n = len(self.h_offset)
        if n < 1:
            raise ValueError("Scales.h_offset is empty: the state needs >= 1 component")
        for name in ("h_scale", "rate_scale"):
            v = getattr(self, name)
            if len(v) != n:
                raise ValueError(f"Scales.{name} has {len(v)} components, h_offset {n}")
        for name in ("h_offset", "h_scale", "u_scale", "rate_scale"):
            for i, v in enumerate(getattr(self, name)):
                if not np.isfinite(v) or (name != "h_offset" and not v > 0):
                    raise ValueError(f"Scales.{name}[{i}] = {v!r} must be finite and > 0")

    @property
    def n_state(self) -> int:
        """State dimension."""
        return len(self.h_offset)

    @property
    def n_input(self) -> int:
        """Input dimension (0: autonomous)."""
        return len(self.u_scale)


@dataclass(frozen=True)
class NodeConfig:
    """Size of the vector-field MLP.

    Attributes:
        n_state: state dimension, >= 1.
        n_input: drive-input dimension, >= 0 (0: autonomous).
        hidden: hidden widths, each >= 1 (at least one hidden layer).
        activation: hidden activation.
        input_mode: how the input enters (``AFFINE`` needs ``n_input == 1``); checkpoints
            written before the field existed load as ``CONCAT``.
    """

    n_state: int
    n_input: int
    hidden: tuple[int, ...]
    activation: Activation = Activation.TANH
    input_mode: InputMode = InputMode.CONCAT

    def __post_init__(self) -> None:
        if self.n_state < 1:
            raise ValueError(f"NodeConfig.n_state = {self.n_state!r} must be >= 1")
        if self.n_input < 0:
            raise ValueError(f"NodeConfig.n_input = {self.n_input!r} must be >= 0")
        if len(self.hidden) < 1 or any(int(w) != w or w < 1 for w in self.hidden):
            raise ValueError(f"NodeConfig.hidden = {self.hidden!r}: >= 1 layers of width >= 1")
        if not isinstance(self.activation, Activation):
            raise ValueError(f"NodeConfig.activation = {self.activation!r} is not an Activation")
        if not isinstance(self.input_mode, InputMode):
            raise ValueError(f"NodeConfig.input_mode = {self.input_mode!r} is not an InputMode")
        if self.input_mode is InputMode.AFFINE and self.n_input != 1:
            raise ValueError(
                f"NodeConfig.input_mode = AFFINE needs n_input = 1, got n_input = {self.n_input}"
            )

    @property
    def widths(self) -> tuple[int, ...]:
        """Layer widths from input to output (``AFFINE``: the first layer takes the state
        only)."""
        n_in = self.n_state if self.input_mode is InputMode.AFFINE else self.n_state + self.n_input
        return (n_in, *self.hidden, self.n_state)

    def to_json(self) -> dict:
        """JSON-able dict (activation and input mode by value)."""
        d = asdict(self)
        d["activation"] = self.activation.value
        d["input_mode"] = self.input_mode.value
        d["hidden"] = list(self.hidden)
        return d

    @staticmethod
    def from_json(d: dict) -> NodeConfig:
        """Inverse of :meth:`to_json` (no ``input_mode`` entry: ``CONCAT``)."""
        return NodeConfig(
            n_state=int(d["n_state"]),
            n_input=int(d["n_input"]),
            hidden=tuple(int(w) for w in d["hidden"]),
            activation=Activation(d["activation"]),
            input_mode=InputMode(d.get("input_mode", InputMode.CONCAT.value)),
        )


def vector_field(
    h: torch.Tensor,
    u: torch.Tensor | None,
    weights: Sequence[torch.Tensor],
    biases: Sequence[torch.Tensor],
    scales: Scales,
    activation: Activation = Activation.TANH,
    input_mode: InputMode = InputMode.CONCAT,
) -> torch.Tensor:
    """dh/dt = f_theta(h, u) for explicit weights (the analogue solver's reference).

    Args:
        h: state [..., n_state].
        u: input [..., n_input] (broadcast against ``h``'s batch shape), or None when
            ``scales.n_input == 0``.
        weights: ``W_k`` in nn.Linear orientation ``[out, in]``, k = 1..L.
        biases: ``b_k`` [out], k = 1..L.
        scales: the fixed normalisation constants.
        activation: hidden activation (none on the last layer).
        input_mode: ``CONCAT`` (the first layer takes state and input) or ``AFFINE`` (the
            first layer takes the state; the output is multiplied by ``u / u_scale``; needs
            ``scales.n_input == 1``).

    Returns:
        dh/dt [..., n_state] in state units per time unit.
    """
    if len(weights) != len(biases) or not weights:
        raise ValueError(f"vector_field: {len(weights)} weights and {len(biases)} biases")
    affine = input_mode is InputMode.AFFINE
    if affine and scales.n_input != 1:
        raise ValueError(f"vector_field: AFFINE needs one input, the scales have {scales.n_input}")
    dt, dev = weights[0].dtype, weights[0].device
    off = torch.tensor(scales.h_offset, dtype=dt, device=dev)
    hs = torch.tensor(scales.h_scale, dtype=dt, device=dev)
    z = (h.to(dt) - off) / hs
    un = None
    if scales.n_input:
        if u is None:
            raise ValueError("vector_field: this field takes an input u, got None")
        us = torch.tensor(scales.u_scale, dtype=dt, device=dev)
        un = u.to(dt) / us
        if not affine:
            z = torch.cat((z, un.expand(*z.shape[:-1], un.shape[-1])), dim=-1)
    act = activation.fn()
    for W, b in zip(weights[:-1], biases[:-1], strict=True):
        z = act(torch.nn.functional.linear(z, W, b))
    out = torch.nn.functional.linear(z, weights[-1], biases[-1])
    out = out * torch.tensor(scales.rate_scale, dtype=dt, device=dev)
    if affine:
        out = out * un
    return out


class MLPVectorField(nn.Module):
    """f_theta(h, u): :func:`vector_field` with trainable ``layers`` (a list of nn.Linear).

    Args:
        cfg: MLP size and activation.
        scales: fixed normalisation constants (must match ``cfg``'s dimensions).
        generator: keyed torch generator of the initial weights (default init otherwise).
    """

    def __init__(
        self, cfg: NodeConfig, scales: Scales, generator: torch.Generator | None = None
    ) -> None:
        super().__init__()
        if scales.n_state != cfg.n_state or scales.n_input != cfg.n_input:
            raise ValueError(
                f"MLPVectorField: scales are for ({scales.n_state} states, {scales.n_input} "
                f"inputs), the config for ({cfg.n_state}, {cfg.n_input})"
            )
        self.cfg = cfg
        self.scales = scales
        w = cfg.widths
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(w[:-1], w[1:], strict=True))
        if generator is not None:
            with torch.no_grad():
                for lin in self.layers:
                    bound = 1.0 / np.sqrt(lin.in_features)
                    lin.weight.uniform_(-bound, bound, generator=generator)
                    lin.bias.uniform_(-bound, bound, generator=generator)

    def weights(self) -> list[torch.Tensor]:
        """Weight matrices ``[out, in]`` from input to output (the live parameters)."""
        return [lin.weight for lin in self.layers]

    def biases(self) -> list[torch.Tensor]:
        """Bias vectors from input to output (the live parameters)."""
        return [lin.bias for lin in self.layers]

    def forward(self, h: torch.Tensor, u: torch.Tensor | None = None) -> torch.Tensor:
        """dh/dt [..., n_state]."""
        return vector_field(
            h,
            u,
            self.weights(),
            self.biases(),
            self.scales,
            self.cfg.activation,
            self.cfg.input_mode,
        )

    def n_params(self) -> int:
        """Number of weights and biases."""
        return sum(p.numel() for p in self.parameters())


InputFn = Callable[[torch.Tensor], torch.Tensor]
"""u(t): time (0-d tensor) -> input [..., n_input] broadcastable against the state batch."""


def integrate(
    field: Callable[[torch.Tensor, torch.Tensor | None], torch.Tensor],
    h0: torch.Tensor,
    t: torch.Tensor,
    u_fn: InputFn | None = None,
    method: str = "rk4",
    step_size: float | None = None,
    **odeint_kw: object,
) -> torch.Tensor:
    """Solve dh/dt = field(h, u(t)) with torchdiffeq's ``odeint``.

    Args:
        field: ``(h, u) -> dh/dt``, e.g. an :class:`MLPVectorField` or a closure over
            :func:`vector_field` with other weights.
        h0: initial state [..., n_state].
        t: output times [T] (first = initial time).
        u_fn: drive input of time (None for an autonomous field).
        method: torchdiffeq method (``rk4`` fixed step by default, or ``dopri5``, ...).
        step_size: fixed step of the fixed-grid methods (default: the spacing of ``t``).
        **odeint_kw: passed on (``rtol``, ``atol`` for adaptive methods).

    Returns:
        States [T, ..., n_state].
    """

    def rhs(tt: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return field(h, None if u_fn is None else u_fn(tt))

    opts = dict(odeint_kw.pop("options", {}) or {})  # type: ignore[arg-type]
    fixed = ("rk4", "euler", "midpoint", "explicit_adams", "implicit_adams")
    if method in fixed and step_size is not None:
        opts["step_size"] = step_size
    return odeint(rhs, h0, t, method=method, options=opts or None, **odeint_kw)


# ------------------------------------------------------------------------------ checkpoints
def save_checkpoint(path: Path, field: MLPVectorField, summary: dict) -> None:
    """Write ``W<k>``, ``b<k>`` (float32), the scales and the JSON ``summary`` to ``.npz``.

    ``summary`` must hold everything needed to reproduce the file (config, recipe, seed) and
    the metrics measured at training time; the node config and scales are added here.
    """
    info = dict(summary)
    info["node"] = field.cfg.to_json()
    info["scales"] = asdict(field.scales)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for k, lin in enumerate(field.layers):
        arrays[f"W{k}"] = lin.weight.detach().cpu().numpy().astype(np.float32)
        arrays[f"b{k}"] = lin.bias.detach().cpu().numpy().astype(np.float32)
    np.savez_compressed(path, summary=json.dumps(info, default=float), **arrays)


def load_checkpoint(path: Path) -> tuple[MLPVectorField, dict]:
    """The vector field (eval mode, float32 parameters) and the summary of a checkpoint.

    Raises:
        FileNotFoundError: no file (names the ``rramcim train`` command that writes it).
        ValueError: a missing array or a shape that does not match the stored config, or a
            non-finite weight; the message names the file and the array.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(
            f"twin checkpoint {path} not found: run `rramcim train twin-hp` / `twin-l96`"
        )
    with np.load(path) as z:
        if "summary" not in z.files:
            raise ValueError(f"{path}: no 'summary' entry")
        info = json.loads(str(z["summary"]))
        cfg = NodeConfig.from_json(info["node"])
        sc = info["scales"]
        scales = Scales(**{k: tuple(float(v) for v in sc[k]) for k in sc})
        field = MLPVectorField(cfg, scales)
        w = cfg.widths
        with torch.no_grad():
            for k, lin in enumerate(field.layers):
                for name, shape, param in (
                    (f"W{k}", (w[k + 1], w[k]), lin.weight),
                    (f"b{k}", (w[k + 1],), lin.bias),
                ):
                    if name not in z.files:
                        raise ValueError(f"{path}: array {name!r} is missing")
                    a = z[name]
                    if a.shape != shape:
                        raise ValueError(f"{path}: array {name!r} has shape {a.shape}, not {shape}")
                    if not np.all(np.isfinite(a)):
                        raise ValueError(f"{path}: array {name!r} holds NaN/inf")
                    param.copy_(torch.from_numpy(a))
    field.eval()
    return field, info
