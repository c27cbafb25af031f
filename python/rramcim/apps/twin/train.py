"""Training of the neural-ODE twins (software level) and their shipped checkpoints.

Recipe (both twins, [I]; the paper's training details are NF, PAPERS.md §2.2). The data are
ground-truth trajectories sampled on a uniform grid (HP: the training drives over the training
window only; Lorenz96: one trajectory on the attractor). Float64 arithmetic, one torch thread,
keyed generators; three stages:

1. warm start by collocation: the state derivative is estimated from the sampled data by the
   fourth-order central difference ``(-x[k+2] + 8 x[k+1] - 8 x[k-1] + x[k-2]) / (12 dt)``
   and the MLP regressed onto it (Adam, ``warm_iters`` full-batch steps, learning rate
   cosine-annealed from ``lr`` to ``lr / 100``). Cheap, and it puts the field near the truth
   before any ODE is solved; its estimate is biased at drive kinks (triangle tips) and by the
   grid, which the next stages remove;
2. multiple shooting on random sub-windows (Adam, ``iters`` steps of ``batch`` windows; may be
   0): each window starts the neural ODE from the true state at its first grid point and
   integrates it with torchdiffeq's fixed-step ``rk4`` (step = grid spacing); the loss is the
   mean squared state error over the window divided by ``h_scale^2``;
3. full-batch multiple shooting, L-BFGS (strong-Wolfe line search, history 50,
   ``lbfgs_evals`` loss evaluations): every window of ``window_steps`` grid steps starting
   every ``window_stride`` points, same loss. This stage brings the field error to ~0.2 % of
   its scale, which the extrapolation needs (the HP state is marginally stable: with the
   concat field a field error accumulates over every drive period).

The scale constants are computed from the training data once: HP ``h_offset``/``h_scale`` the
mid-point / half-range of the state, ``u_scale`` the largest |v|, ``rate_scale`` the largest
|dx/dt| of the exact field on the data; Lorenz96 the mean / standard deviation pooled over the
components (one value for all, keeping the cyclic symmetry) and the pooled standard deviation
of dx/dt.

Checkpoints: ``assets/twin_hp.npz`` and ``assets/twin_l96.npz`` (weights rounded to float32,
scales, and a JSON summary with the config, the recipe, the seed and the metrics measured on
the rounded weights); ``rramcim train twin-hp`` / ``twin-l96`` reproduce them from the seed
(bit for bit on one machine: one thread, keyed generators, deterministic CPU kernels).

Shipped results (seed 0, measured when written; ``tests/test_twin.py`` recomputes them and
holds them to the bounds in brackets):

* HP twin, control-affine field ``dx/dt = rate_scale (v / u_scale) MLP(x)`` (the structure
  of the HP model, ``dx/dt = v G(x)``), MLP 1 -> 32 -> 32 -> 1 tanh (1153 parameters), 1-1.5
  min of training (54-94 s measured): state NRMSE (RMSE / std of the truth; max over drives)
  0.20 % on the 2 s training window [< 1 %], 0.20 % on the extrapolation to 8 s [< 3 %],
  0.19 % on the unseen two-tone and pulse drives over 8 s [< 3 %]. (The earlier concat field
  ``dx/dt = rate_scale MLP(x, v)``, 2 -> 32 -> 32 -> 1, still available with
  ``input_mode="concat"``, gave 0.33 / 1.40 / 0.71 %: its field error at v = 0 accumulates
  as drift, which the affine form rules out.)
* Lorenz96 twin (N = 6, F = 8), MLP 6 -> 64 -> 64 -> 6 tanh (4998 parameters), about 5 min:
  valid prediction time 4.98 +- 1.76 Lyapunov times over 10 test starts (min 3.16, max 8.19)
  [mean > 3], with lambda_1 = 0.939 per time unit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from rramcim.apps.twin.hp import (
    TRAIN_DRIVES,
    UNSEEN_DRIVES,
    Drive,
    HPConfig,
    simulate_hp,
    state_rate_per_s,
)
from rramcim.apps.twin.lorenz96 import (
    L96Config,
    attractor_rms,
    attractor_state,
    l96_rhs,
    lyapunov_spectrum,
    simulate_l96,
)
from rramcim.apps.twin.node import (
    ASSETS,
    Activation,
    InputMode,
    MLPVectorField,
    NodeConfig,
    Scales,
    integrate,
    save_checkpoint,
)
from rramcim.rng import make_key
from rramcim.threads import torch_threads

HP_ASSET = ASSETS / "twin_hp.npz"
"""Shipped HP twin (reproduced by ``rramcim train twin-hp``)."""
L96_ASSET = ASSETS / "twin_l96.npz"
"""Shipped Lorenz96 twin (reproduced by ``rramcim train twin-l96``)."""

Log = Callable[[str], None]
InputMaker = Callable[[torch.Tensor, torch.Tensor], Callable[[torch.Tensor], torch.Tensor]]
"""``(trajectory index [B], window start time [B]) -> u(t)`` of a batch of windows."""


def _gen(seed: int, *purpose: object) -> torch.Generator:
    """A torch generator keyed by (seed, purpose...)."""
    return torch.Generator().manual_seed(make_key(seed, *purpose) & ((1 << 63) - 1))


@dataclass(frozen=True)
class Recipe:
    """Training recipe shared by both twins (see the module docstring for the stages).

    Attributes:
        warm_iters: Adam steps of the collocation warm start, >= 0.
        warm_stride: grid points between collocation points, >= 1.
        iters: Adam steps of random-window multiple shooting, >= 0.
        batch: windows per random-window step, >= 1.
        random_window_steps: (first, last) window length of the random-window stage, grid
            steps; grows linearly over the stage.
        lr: Adam learning rate, (0, 1]; cosine-annealed to lr / 100 in each Adam stage.
        lbfgs_evals: loss evaluations of the full-batch L-BFGS stage, >= 0.
        window_steps: window length of the L-BFGS stage, grid steps, >= 1.
        window_stride: grid points between window starts of the L-BFGS stage, >= 1.
        seed: keys the initial weights and the window sampling.
    """

    warm_iters: int = 2000
    warm_stride: int = 1
    iters: int = 0
    batch: int = 128
    random_window_steps: tuple[int, int] = (5, 25)
    lr: float = 1e-2
    lbfgs_evals: int = 1500
    window_steps: int = 10
    window_stride: int = 2
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("warm_iters", "iters", "lbfgs_evals"):
            v = getattr(self, name)
            if int(v) != v or v < 0:
                raise ValueError(f"Recipe.{name} = {v!r} must be an integer >= 0")
        for name in ("warm_stride", "batch", "window_steps", "window_stride"):
            v = getattr(self, name)
            if int(v) != v or v < 1:
                raise ValueError(f"Recipe.{name} = {v!r} must be an integer >= 1")
        lo, hi = self.random_window_steps
        if not 1 <= lo <= hi:
            raise ValueError(
                f"Recipe.random_window_steps = {self.random_window_steps!r} must be "
                "1 <= first <= last"
            )
        if not 0 < self.lr <= 1:
            raise ValueError(f"Recipe.lr = {self.lr!r} is out of range (0, 1]")

    def to_json(self) -> dict:
        """JSON-able dict."""
        d = asdict(self)
        d["random_window_steps"] = list(self.random_window_steps)
        return d

    @staticmethod
    def from_json(d: dict) -> Recipe:
        """Inverse of :meth:`to_json`."""
        d = dict(d)
        d["random_window_steps"] = tuple(d["random_window_steps"])
        return Recipe(**d)


def _check_model(cls: str, hidden: tuple[int, ...], activation: str) -> None:
    if len(hidden) < 1 or any(int(w) != w or w < 1 for w in hidden):
        raise ValueError(f"{cls}.hidden = {hidden!r}: >= 1 layers of width >= 1")
    if activation not in [a.value for a in Activation]:
        raise ValueError(f"{cls}.activation = {activation!r} must be 'tanh' or 'relu'")


def _check_input_mode(cls: str, input_mode: str) -> None:
    if input_mode not in [m.value for m in InputMode]:
        raise ValueError(f"{cls}.input_mode = {input_mode!r} must be 'concat' or 'affine'")


def _twin_to_json(cfg) -> dict:  # noqa: ANN001 (HPTwinConfig | L96TwinConfig)
    """JSON-able dict of a twin configuration (tuples as lists, the recipe as its own dict)."""
    d = asdict(cfg)
    d["hidden"] = list(cfg.hidden)
    d["recipe"] = cfg.recipe.to_json()
    return d


def _twin_from_json(cls, d: dict, sub: str, sub_cls):  # noqa: ANN001, ANN202
    """Inverse of :func:`_twin_to_json`; ``sub`` names the ground-truth configuration field
    (``device`` / ``system``) and ``sub_cls`` its class."""
    d = dict(d)
    d[sub] = sub_cls(**d[sub])
    d["hidden"] = tuple(d["hidden"])
    d["recipe"] = Recipe.from_json(d["recipe"])
    return cls(**d)


@dataclass(frozen=True)
class HPTwinConfig:
    """The HP memristor twin: data, model and training recipe.

    Attributes:
        device: ground-truth device parameters.
        hidden: hidden widths of the MLP.
        activation: ``tanh`` (default) or ``relu``.
        input_mode: ``affine`` (default: ``dx/dt = rate_scale (v / u_scale) MLP(x)``, the
            MLP 1 -> hidden -> 1 sees the state only; (32, 32): 1153 weights and biases) or
            ``concat`` (``dx/dt = rate_scale MLP(x, v)``, MLP 2 -> hidden -> 1, 1185).
            A stored configuration without the field is ``concat`` (the form of the earlier
            checkpoints).
        dt_s: grid spacing of the data and RK4 step of the twin, (0, 0.1] s.
        t_train_s: training window [0, t_train_s] of every training drive, >= 10 dt_s.
        horizon_factor: evaluation horizon = horizon_factor x t_train_s, > 1.
        recipe: the training recipe (default :class:`Recipe`: collocation 2000 steps, no
            random-window stage, L-BFGS 1500 evaluations on every 10-step window starting
            every 2 grid points of the 5 training trajectories).
    """

    device: HPConfig = field(default_factory=HPConfig)
    hidden: tuple[int, ...] = (32, 32)
    activation: str = "tanh"
    input_mode: str = "affine"
    dt_s: float = 0.01
    t_train_s: float = 2.0
    horizon_factor: float = 4.0
    recipe: Recipe = field(default_factory=Recipe)

    def __post_init__(self) -> None:
        if not 0 < self.dt_s <= 0.1:
            raise ValueError(f"HPTwinConfig.dt_s = {self.dt_s!r} is out of range (0, 0.1] s")
        if not self.t_train_s >= 10 * self.dt_s:
            raise ValueError(f"HPTwinConfig.t_train_s = {self.t_train_s!r} must be >= 10 dt_s")
        if not self.horizon_factor > 1:
            raise ValueError(f"HPTwinConfig.horizon_factor = {self.horizon_factor!r} must be > 1")
        _check_model("HPTwinConfig", self.hidden, self.activation)
        _check_input_mode("HPTwinConfig", self.input_mode)
        n = round(self.t_train_s / self.dt_s)
        if max(self.recipe.window_steps, self.recipe.random_window_steps[1]) >= n:
            raise ValueError(
                f"HPTwinConfig.recipe: windows of {self.recipe.window_steps} / "
                f"{self.recipe.random_window_steps} steps do not fit the training window "
                f"({n} steps)"
            )

    def node(self) -> NodeConfig:
        """The field: one state x, one drive v, one output dx/dt, in the configured mode."""
        return NodeConfig(
            1, 1, tuple(self.hidden), Activation(self.activation), InputMode(self.input_mode)
        )

    def to_json(self) -> dict:
        """JSON-able dict."""
        return _twin_to_json(self)

    @staticmethod
    def from_json(d: dict) -> HPTwinConfig:
        """Inverse of :meth:`to_json` (no ``input_mode`` entry: ``concat``)."""
        d = dict(d)
        d.setdefault("input_mode", InputMode.CONCAT.value)
        return _twin_from_json(HPTwinConfig, d, "device", HPConfig)


L96_RECIPE = Recipe(
    warm_iters=2000,
    warm_stride=5,
    iters=0,
    lr=1e-2,
    lbfgs_evals=2500,
    window_steps=10,
    window_stride=20,
)
"""Default recipe of the Lorenz96 twin."""


@dataclass(frozen=True)
class L96TwinConfig:
    """The Lorenz96 twin: data, model and training recipe.

    Attributes:
        system: ground-truth system (N, F).
        hidden: hidden widths of the MLP N -> hidden -> N; (64, 64): 4998 weights and
            biases for N = 6.
        activation: ``tanh`` (default) or ``relu``.
        dt: grid spacing of the data and RK4 step of the twin, (0, 0.1] time units.
        t_data: length of the training trajectory (after 50 units of spin-up), time units,
            >= 100 dt.
        lyap_t_total: averaging time of each Lyapunov estimate, time units, > 0.
        lyap_seeds: number of Lyapunov estimates averaged (different starts), >= 1.
        recipe: the training recipe (default :data:`L96_RECIPE`: collocation 2000 steps on
            every 5th point, L-BFGS 2500 evaluations on 10-step windows starting every 20
            grid points); its seed also keys the data and the test starts.
    """

    system: L96Config = field(default_factory=L96Config)
    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    dt: float = 0.01
    t_data: float = 200.0
    lyap_t_total: float = 500.0
    lyap_seeds: int = 4
    recipe: Recipe = L96_RECIPE

    def __post_init__(self) -> None:
        if not 0 < self.dt <= 0.1:
            raise ValueError(f"L96TwinConfig.dt = {self.dt!r} is out of range (0, 0.1]")
        if not self.t_data >= 100 * self.dt:
            raise ValueError(f"L96TwinConfig.t_data = {self.t_data!r} must be >= 100 dt")
        if not self.lyap_t_total > 0:
            raise ValueError(f"L96TwinConfig.lyap_t_total = {self.lyap_t_total!r} must be > 0")
        if int(self.lyap_seeds) != self.lyap_seeds or self.lyap_seeds < 1:
            raise ValueError(f"L96TwinConfig.lyap_seeds = {self.lyap_seeds!r} must be >= 1")
        _check_model("L96TwinConfig", self.hidden, self.activation)

    @property
    def seed(self) -> int:
        """The recipe's seed."""
        return self.recipe.seed

    def node(self) -> NodeConfig:
        """The MLP size: N inputs, N outputs, no drive."""
        return NodeConfig(self.system.n, 0, tuple(self.hidden), Activation(self.activation))

    def to_json(self) -> dict:
        """JSON-able dict."""
        return _twin_to_json(self)

    @staticmethod
    def from_json(d: dict) -> L96TwinConfig:
        """Inverse of :meth:`to_json`."""
        return _twin_from_json(L96TwinConfig, d, "system", L96Config)


# ------------------------------------------------------------------------------ data
def hp_training_data(
    cfg: HPTwinConfig, drives: tuple[Drive, ...] = TRAIN_DRIVES
) -> tuple[np.ndarray, np.ndarray]:
    """Grid [T] (s) and states [n_drives, T] of the training drives over the training window."""
    t = np.arange(round(cfg.t_train_s / cfg.dt_s) + 1) * cfg.dt_s
    x = np.stack([simulate_hp(d, t, cfg.device).x for d in drives])
    return t, x


def hp_scales(
    cfg: HPTwinConfig, t: np.ndarray, x: np.ndarray, drives: tuple[Drive, ...] = TRAIN_DRIVES
) -> Scales:
    """Scale constants from the training data (see the module docstring)."""
    v = np.stack([np.asarray(d(t)) for d in drives])
    rate = state_rate_per_s(x, v, cfg.device)
    lo, hi = float(x.min()), float(x.max())
    return Scales(
        h_offset=(0.5 * (lo + hi),),
        h_scale=(0.5 * (hi - lo),),
        u_scale=(float(np.abs(v).max()),),
        rate_scale=(float(np.abs(rate).max()),),
    )


def l96_training_data(cfg: L96TwinConfig) -> tuple[np.ndarray, np.ndarray]:
    """Grid [T] and one attractor trajectory [T, N] (start keyed by ``cfg.seed``)."""
    x0 = attractor_state(cfg.system, seed=cfg.seed)
    t = np.arange(round(cfg.t_data / cfg.dt) + 1) * cfg.dt
    return t, simulate_l96(x0, t, cfg.system)


def l96_scales(cfg: L96TwinConfig, x: np.ndarray) -> Scales:
    """Pooled scale constants of a training trajectory [T, N]."""
    n = cfg.system.n
    rate = l96_rhs(x, cfg.system.forcing)
    return Scales(
        h_offset=(float(x.mean()),) * n,
        h_scale=(float(x.std()),) * n,
        u_scale=(),
        rate_scale=(float(rate.std()),) * n,
    )


def central_difference(x: np.ndarray, dt: float) -> np.ndarray:
    """Fourth-order central difference along axis -2 of ``x`` [..., T, n] -> [..., T - 4, n]
    (the derivative at the interior points 2..T-3)."""
    return (-x[..., 4:, :] + 8 * x[..., 3:-1, :] - 8 * x[..., 1:-3, :] + x[..., :-4, :]) / (
        12.0 * dt
    )


# ------------------------------------------------------------------------------ training
def fit(
    fld: MLPVectorField,
    series: torch.Tensor,
    dt: float,
    recipe: Recipe,
    tag: str,
    make_u: InputMaker | None = None,
    log: Log = print,
) -> list[dict]:
    """Train ``fld`` (float64) on trajectories ``series`` [S, T, n] with the three stages.

    Args:
        fld: the vector field, float64 parameters.
        series: sampled trajectories, float64, on a grid of spacing ``dt`` starting at 0.
        dt: grid spacing (also the RK4 step).
        recipe: stages and their sizes.
        tag: names the generators' purpose and the log lines.
        make_u: builds the input function of a batch of windows (None: autonomous).
        log: progress lines.

    Returns:
        History rows (stage, step, loss, elapsed seconds).
    """
    S, T, n = series.shape
    hs = torch.tensor(fld.scales.h_scale, dtype=series.dtype)
    history: list[dict] = []
    t0 = time.perf_counter()

    def note(stage: str, step: int, loss: float) -> None:
        history.append(
            {"stage": stage, "step": step, "loss": loss, "elapsed_s": time.perf_counter() - t0}
        )
        log(f"{tag}: {stage:9s} {step:6d}  loss {loss:.3e}  {time.perf_counter() - t0:7.1f} s")

    def shoot(traj: torch.Tensor, start: torch.Tensor, L: int) -> torch.Tensor:
        idx = start[:, None] + torch.arange(L + 1)[None, :]  # [B, L+1]
        target = series[traj[:, None], idx].transpose(0, 1)  # [L+1, B, n]
        tt = torch.arange(L + 1, dtype=series.dtype) * dt
        u_fn = None if make_u is None else make_u(traj, start.to(series.dtype) * dt)
        pred = integrate(fld, target[0], tt, u_fn, method="rk4", step_size=dt)
        return (((pred - target) / hs) ** 2).mean()

    # 1. collocation warm start
    if recipe.warm_iters:
        k = torch.arange(0, T - 4, recipe.warm_stride)  # interior points 2 + k
        deriv = central_difference(series, dt)[:, k].reshape(-1, n)
        h = series[:, k + 2].reshape(-1, n)
        u = None
        if make_u is not None:
            traj = torch.arange(S).repeat_interleave(k.numel())
            tk = ((k + 2).to(series.dtype) * dt).repeat(S)
            u = make_u(traj, tk)(torch.zeros((), dtype=series.dtype))
        rs = torch.tensor(fld.scales.rate_scale, dtype=series.dtype)
        opt = torch.optim.Adam(fld.parameters(), lr=recipe.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=recipe.warm_iters, eta_min=recipe.lr / 100
        )
        for it in range(recipe.warm_iters):
            loss = (((fld(h, u) - deriv) / rs) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if (it + 1) % max(1, recipe.warm_iters // 4) == 0:
                note("warm", it + 1, float(loss.detach()))

    # 2. random sub-windows
    if recipe.iters:
        gen = _gen(recipe.seed, tag, "windows")
        opt = torch.optim.Adam(fld.parameters(), lr=recipe.lr)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, T_max=recipe.iters, eta_min=recipe.lr / 100
        )
        lo, hi = recipe.random_window_steps
        run = 0.0
        for it in range(recipe.iters):
            L = int(round(lo + (hi - lo) * it / max(1, recipe.iters - 1)))
            traj = torch.randint(0, S, (recipe.batch,), generator=gen)
            start = torch.randint(0, T - L, (recipe.batch,), generator=gen)
            loss = shoot(traj, start, L)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            lv = float(loss.detach())
            run = lv if it == 0 else 0.98 * run + 0.02 * lv
            if (it + 1) % max(1, recipe.iters // 10) == 0:
                note("windows", it + 1, run)

    # 3. full-batch multiple shooting, L-BFGS
    if recipe.lbfgs_evals:
        L = recipe.window_steps
        starts = torch.arange(0, T - L, recipe.window_stride)
        traj = torch.arange(S).repeat_interleave(starts.numel())
        start = starts.repeat(S)
        opt = torch.optim.LBFGS(
            fld.parameters(),
            lr=1.0,
            max_iter=recipe.lbfgs_evals,
            max_eval=recipe.lbfgs_evals,
            history_size=50,
            tolerance_grad=1e-14,
            tolerance_change=1e-16,
            line_search_fn="strong_wolfe",
        )
        count = [0]
        report = max(1, recipe.lbfgs_evals // 10)

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = shoot(traj, start, L)
            loss.backward()
            count[0] += 1
            if count[0] % report == 0:
                note("lbfgs", count[0], float(loss.detach()))
            return loss

        opt.step(closure)
        with torch.no_grad():
            note("final", count[0], float(shoot(traj, start, L)))
    return history


def _round_float32(fld: MLPVectorField) -> MLPVectorField:
    """Round the parameters to float32 (what the checkpoint stores); eval mode."""
    fld = fld.float()
    fld.eval()
    return fld


def train_hp(
    cfg: HPTwinConfig | None = None, out_path: Path | None = HP_ASSET, log: Log = print
) -> tuple[MLPVectorField, dict]:
    """Train the HP twin; write the checkpoint (unless ``out_path`` is None); return it.

    Returns:
        ``(field with float32 parameters in eval mode, summary)``; the summary holds the
        config, the metrics of :func:`rramcim.apps.twin.evaluate.evaluate_hp` (measured on the
        float32 weights, as stored) and the training time.
    """
    from rramcim.apps.twin.evaluate import evaluate_hp

    cfg = cfg or HPTwinConfig()
    with torch_threads():
        t, x = hp_training_data(cfg)
        scales = hp_scales(cfg, t, x)
        fld = MLPVectorField(
            cfg.node(), scales, generator=_gen(cfg.recipe.seed, "twin-hp", "init")
        ).double()
        series = torch.from_numpy(x[:, :, None])

        def make_u(traj: torch.Tensor, t0: torch.Tensor) -> Callable:
            rows = torch.arange(traj.numel())

            def u_fn(tt: torch.Tensor) -> torch.Tensor:
                v = torch.stack([d(t0 + tt) for d in TRAIN_DRIVES])  # [n_drives, B]
                return v[traj, rows][:, None]

            return u_fn

        t0 = time.perf_counter()
        history = fit(fld, series, cfg.dt_s, cfg.recipe, "twin-hp", make_u, log)
        train_s = time.perf_counter() - t0
        fld = _round_float32(fld)
        metrics = evaluate_hp(fld, cfg)
    summary = {
        "workload": "twin-hp",
        "config": cfg.to_json(),
        "train_drives": [repr(d) for d in TRAIN_DRIVES],
        "unseen_drives": [repr(d) for d in UNSEEN_DRIVES],
        "metrics": metrics,
        "n_params": fld.n_params(),
        "history": history,
        "train_time_s": train_s,
        "versions": _versions(),
    }
    log(
        f"twin-hp: {fld.n_params()} parameters, trained in {train_s:.0f} s; NRMSE (max over "
        f"drives) train window {100 * metrics['train_nrmse_max']:.2f} %, extrapolation "
        f"{100 * metrics['extrap_nrmse_max']:.2f} %, unseen drives "
        f"{100 * metrics['unseen_nrmse_max']:.2f} %"
    )
    if out_path is not None:
        save_checkpoint(Path(out_path), fld, summary)
        log(f"wrote {out_path}")
    return fld, summary


def train_l96(
    cfg: L96TwinConfig | None = None, out_path: Path | None = L96_ASSET, log: Log = print
) -> tuple[MLPVectorField, dict]:
    """Train the Lorenz96 twin; write the checkpoint (unless ``out_path`` is None); return it.

    Also estimates the largest Lyapunov exponent (``cfg.lyap_seeds`` Benettin runs of
    ``cfg.lyap_t_total``) and the attractor RMS; both are stored and used by the evaluation.
    """
    from rramcim.apps.twin.evaluate import evaluate_l96

    cfg = cfg or L96TwinConfig()
    with torch_threads():
        t, x = l96_training_data(cfg)
        scales = l96_scales(cfg, x)
        fld = MLPVectorField(
            cfg.node(), scales, generator=_gen(cfg.seed, "twin-l96", "init")
        ).double()
        series = torch.from_numpy(x[None])
        t0 = time.perf_counter()
        history = fit(fld, series, cfg.dt, cfg.recipe, "twin-l96", None, log)
        train_s = time.perf_counter() - t0
        fld = _round_float32(fld)
        t1 = time.perf_counter()
        lams = [
            float(lyapunov_spectrum(cfg.system, 1, cfg.lyap_t_total, seed=cfg.seed + 1 + k)[0])
            for k in range(cfg.lyap_seeds)
        ]
        lyap = {
            "lambda1": float(np.mean(lams)),
            "lambda1_runs": lams,
            "lambda1_std": float(np.std(lams)),
            "t_total": cfg.lyap_t_total,
            "method": "Benettin/QR, RK4 dt 0.01, QR every 10 steps",
            "time_s": time.perf_counter() - t1,
        }
        log(
            f"twin-l96: largest Lyapunov exponent {lyap['lambda1']:.4f} "
            f"+- {lyap['lambda1_std']:.4f} per time unit"
        )
        rms = attractor_rms(x)
        metrics = evaluate_l96(fld, cfg, lambda1=lyap["lambda1"], rms=rms)
    summary = {
        "workload": "twin-l96",
        "config": cfg.to_json(),
        "lyapunov": lyap,
        "attractor_rms": rms,
        "metrics": metrics,
        "n_params": fld.n_params(),
        "history": history,
        "train_time_s": train_s,
        "versions": _versions(),
    }
    log(
        f"twin-l96: {fld.n_params()} parameters, trained in {train_s:.0f} s; valid prediction "
        f"time {metrics['vpt_lyap_mean']:.2f} +- {metrics['vpt_lyap_std']:.2f} Lyapunov times"
    )
    if out_path is not None:
        save_checkpoint(Path(out_path), fld, summary)
        log(f"wrote {out_path}")
    return fld, summary


def _versions() -> dict:
    import torchdiffeq

    import rramcim

    return {
        "rramcim": getattr(rramcim, "__version__", "?"),
        "torch": torch.__version__,
        "torchdiffeq": torchdiffeq.__version__,
        "numpy": np.__version__,
    }
