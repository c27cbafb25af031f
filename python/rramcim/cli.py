"""The ``rramcim`` command: ``train``, ``golden``, ``sim``, ``bench``, ``report``.

Run ``rramcim <command> --help`` for the options of each.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from rramcim.report.text import text_table

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"


def _table(rows: list[tuple[str, str]], title: str) -> str:
    """A two-column summary table (name, value), no header row."""
    return text_table(rows, title, header=False)


# ----------------------------------------------------------------------------- golden
def cmd_golden(args: argparse.Namespace) -> int:
    """Regenerate committed vector cases (or check them)."""
    import tempfile

    from rramcim.golden.cases import CASES, VECTOR_ROOT
    from rramcim.golden.vectors import load_vectors

    names = list(CASES) if args.case == "all" else [args.case]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        print(
            f"rramcim golden: unknown case(s) {unknown}; known: {', '.join(CASES)}", file=sys.stderr
        )
        return 2
    status = 0
    for name in names:
        if args.check:
            with tempfile.TemporaryDirectory() as tmp:
                new = load_vectors(CASES[name](tmp))
                old = load_vectors(VECTOR_ROOT / f"{name}.json")
                same = new.manifest["sha256"] == old.manifest["sha256"] and new.params == old.params
                print(f"{name}: {'identical' if same else 'DIFFERS from the committed vectors'}")
                status |= 0 if same else 1
        else:
            root = Path(args.out) if args.out else VECTOR_ROOT
            path = CASES[name](root)
            print(f"{name}: wrote {path} and {path.with_suffix('.npz').name}")
            if args.readmemh:
                from rramcim.golden.vectors import write_readmemh

                vs = load_vectors(path)
                for arr, spec in vs.manifest["arrays"].items():
                    mem = path.parent / f"{path.stem}_{arr}.mem"
                    write_readmemh(mem, vs.arrays[arr], spec["width"])
                    print(f"  $readmemh: {mem}")
    return status


# ----------------------------------------------------------------------------- sim
SIM_DEMO_PARAMS = dict(
    N_ROWS=512, N_COLS=256, N_ADC=32, ADC_BITS=8, IN_BITS=4, N_TILES=1, T_SETTLE_CYC=2, T_CONV_CYC=4
)


DEMO_SEED = 1
"""``COCOTB_RANDOM_SEED`` of the read-path demo unless ``--seed`` / ``SEED`` gives one."""


def cmd_sim(args: argparse.Namespace) -> int:
    """Run the end-to-end demos through the RTL and print the summary."""
    from tb.vip.runner import run_bench

    out_dir = Path(args.out).resolve()  # the simulators run in their build folders
    json_path = out_dir / "sim" / "xbar_path.json"
    if json_path.exists():
        json_path.unlink()
    here = REPO / "tb" / "cim_xbar_path"
    env = {"RRAMCIM_DEMO_VECTORS": str(args.vectors), "RRAMCIM_DEMO_OUT": str(json_path)}
    if args.seed is not None:
        os.environ["SEED"] = str(args.seed)
    print(
        f"rramcim sim: read path, {SIM_DEMO_PARAMS['N_ROWS']} x {SIM_DEMO_PARAMS['N_COLS']} macro, "
        f"{args.vectors} vectors through the RTL on {args.sim} ...",
        flush=True,
    )
    t0 = time.perf_counter()
    error = None
    try:
        run_bench(
            sim=args.sim,
            nodeid=f"make_sim_xbar_path_{args.sim}",
            toplevel="tb_cim_xbar_path",
            module="sim_cim_xbar_path",
            testcase="run_demo",
            sources=[
                REPO / "rtl" / "cim_adc_if.sv",
                REPO / "rtl" / "cim_xbar_ctrl.sv",
                REPO / "models" / "hdl" / "cim_xbar_macro.sv",
                here / "tb_cim_xbar_path.sv",
            ],
            parameters=SIM_DEMO_PARAMS,
            bench_dir=here,
            extra_env=env,
            seed=DEMO_SEED,  # a fixed stimulus (SEED=N picks another): the summary reproduces
        )
    except SystemExit as e:  # cocotb-test reports failing tests this way
        error = str(e)
    wall = time.perf_counter() - t0
    if not json_path.exists():
        print(
            f"rramcim sim: the read-path simulation produced no result ({error})", file=sys.stderr
        )
        return 1
    res = json.loads(json_path.read_text())
    res["wall_s_total"] = wall
    json_path.write_text(json.dumps(res, indent=2))
    print(summary_text(res))
    prime_ok = True
    if args.prime_samples > 0:
        from rramcim.apps.prime.sim import prime_summary_rows, run_prime_sim

        prime, prime_ok = run_prime_sim(
            out_dir,
            sim=args.prime_sim or args.sim,
            n_rtl=args.prime_samples,
            shards=args.prime_shards,
            seed=args.seed,
            log=lambda m: print(m, flush=True),
            cross_sim="icarus" if (args.prime_sim or args.sim) == "verilator" else "verilator",
            n_cross=args.prime_cross_samples,
        )
        print(
            _table(prime_summary_rows(prime), "PRIME (N-Digits; software / hardware model / RTL)")
        )
    ode_ok = True
    if args.ode_samples > 0:
        from rramcim.apps.ode_sim import ode_summary_rows, projection_summary, run_ode_sim

        ode_sim = args.ode_sim or args.sim
        ode, ode_ok = run_ode_sim(
            out_dir,
            sim=ode_sim,
            n_ring=args.ode_samples,
            n_letters=max(1, args.ode_samples // 4),
            cross_sim="icarus" if ode_sim == "verilator" else "verilator",
            n_cross=1,
            seed=args.seed or 0,
            log=lambda m: print(m, flush=True),
        )
        print(
            _table(
                ode_summary_rows(ode),
                "Neural-ODE twins and diffusion (software / hardware model / RTL)",
            )
        )
        print(projection_summary(ode))
    nfield_ok = True
    nfield_rtl_ok = True
    if args.nfield:
        from rramcim.apps.nfield.sim import nfield_summary_rows, run_nfield_sim

        try:
            nf = run_nfield_sim(
                out_dir,
                log=lambda m: print(m, flush=True),
                rtl_sim=None if args.nfield_sim == "none" else args.nfield_sim,
            )
            print(
                _table(
                    nfield_summary_rows(nf),
                    "Neural field (software / weight mapping / hardware model / RTL)",
                )
            )
            patches = (nf.get("rtl") or {}).get("patches", {})
            if any(p.get("mismatches", 1) or p.get("error") for p in patches.values()):
                print("rramcim sim: neural field: an RTL patch differs or failed", file=sys.stderr)
                nfield_rtl_ok = False
        except (FileNotFoundError, ValueError) as e:
            print(f"rramcim sim: neural field: {e}", file=sys.stderr)
            nfield_ok = False
    from rramcim.report.html import write_report

    page = write_report(out_dir)
    print(f"\nreport: {page}")
    if error or res["mismatch_words"] or res["protocol_errors"]:
        print(
            f"rramcim sim: FAILED ({error or res['first_mismatch'] or res['protocol_errors']})",
            file=sys.stderr,
        )
        return 1
    if not prime_ok:
        print(
            "rramcim sim: FAILED (PRIME RTL subset differs from the hardware model)",
            file=sys.stderr,
        )
        return 1
    if not ode_ok:
        print(
            "rramcim sim: FAILED (an ODE / diffusion RTL run differs from the hardware model)",
            file=sys.stderr,
        )
        return 1
    if not nfield_ok:
        print("rramcim sim: FAILED (neural field checkpoints)", file=sys.stderr)
        return 1
    if not nfield_rtl_ok:
        print(
            "rramcim sim: FAILED (a neural-field RTL patch differs from the hardware model)",
            file=sys.stderr,
        )
        return 1
    return 0


def energy_rows(res: dict) -> tuple[list[tuple[str, str]], dict]:
    """Energy per read and projected gain from a demo result (cost model of rramcim.cost)."""
    from rramcim.analog.crossbar import ReadStats
    from rramcim.cost import default_cost_model

    st = res["stats_rtl_run"]
    macs = res["macs_per_vector"] * res["vectors_rtl"]
    counts = ReadStats(**st).op_counts(macs)
    model = default_cost_model()
    e = model.energy(counts)
    gain = model.gain(counts)
    rows = [
        ("energy per read (model)", f"{e.total_J / max(1, st['reads']) * 1e12:.2f} pJ"),
        ("energy per vector (model)", f"{e.total_J / max(1, res['vectors_rtl']) * 1e9:.3f} nJ"),
        ("  of which ADC", f"{100 * e.adc_J / e.total_J:.1f} %"),
        ("A100 energy per vector", f"{model.baseline_energy(res['macs_per_vector']) * 1e9:.3f} nJ"),
        ("projected energy gain", f"{gain.energy_ratio:.2f} x"),
    ]
    return rows, {"energy_J": e.components(), "total_J": e.total_J, "gain": gain.energy_ratio}


def summary_text(res: dict) -> str:
    """The `make sim` summary table of the read-path demo."""
    p = res["params"]
    rows = [
        ("simulator", res["simulator"]),
        ("macro", f"{p['N_ROWS']} x {p['N_COLS']} pairs, {p['N_ADC']} ADCs x {p['ADC_BITS']} b"),
        ("inputs", f"{p['IN_BITS']}-bit, bit-serial"),
        (
            "weights clipped / stuck cells",
            f"{res['program_report']['n_clipped']} / {res['program_report']['n_stuck']}",
        ),
        ("vectors through RTL", str(res["vectors_rtl"])),
        ("reads (RTL / golden)", f"{res['reads_rtl']} / {res['reads_golden']}"),
        ("mismatching output words", str(res["mismatch_words"])),
        (
            "ADC saturation flags (RTL / golden)",
            f"{res['adc_sat_flags_rtl']} / {res['adc_sat_flags_golden']}",
        ),
        ("clipped conversions (model)", f"{res['clipped_conversions']} of {res['conversions']}"),
        (
            "error vs software, RTL subset",
            f"{100 * res['error_rtl_vs_software']['nrmse']:.2f} % NRMSE",
        ),
        (
            "error vs software, HW model 1024",
            f"{100 * res['error_hw_model_vs_software_1024']['nrmse']:.2f} % NRMSE",
        ),
        ("RTL clock cycles", str(res["cycles"])),
        (
            "wall time RTL / HW model",
            f"{res['wall_s_rtl']:.1f} s / {res['wall_s_hw_model'] * 1e3:.1f} ms",
        ),
    ]
    erows, _ = energy_rows(res)
    return _table(rows + erows, "Read path (cim_xbar_ctrl + cim_adc_if + RRAM macro model)")


# ----------------------------------------------------------------------------- bench
def cmd_bench(args: argparse.Namespace) -> int:
    """Hardware-model noisy MVM against plain float32 torch matmul, side by side."""
    from rramcim.bench import run_mvm_bench

    text, rows = run_mvm_bench(batch=args.batch, repeat=args.repeat, threads=args.threads)
    print(text)
    out = Path(args.out) / "bench" / "mvm.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print(f"\nwrote {out}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Train a workload's shipped checkpoint."""
    if args.workload == "prime":
        from rramcim.apps.prime.train import ASSET, PrimeTrainConfig, train_prime

        cfg = PrimeTrainConfig(data=args.data, epochs=args.epochs, seed=args.seed)
        out = Path(args.out) if args.out else ASSET
        s = train_prime(cfg, out)
        print(
            f"PRIME: test accuracy {100 * s['test_acc_all_steps']:.2f} % (all {cfg.steps} steps), "
            f"{100 * s['test_acc_early_stop']:.2f} % with early stop at "
            f"{s['mean_steps']:.2f} steps "
            f"on average; {s['train_time_s']:.0f} s"
        )
        return 0
    if args.workload == "inpaint":
        from rramcim.apps.prime.inpaint import (
            ASSET,
            CLASSIFIER_ASSET,
            InpaintTrainConfig,
            train_inpaint,
        )

        kw = {} if args.inpaint_epochs is None else {"epochs": args.inpaint_epochs}
        cfg = InpaintTrainConfig(seed=args.seed, **kw)
        out = Path(args.out) if args.out else ASSET
        clf_out = out.with_name(out.stem + "_classifier.npz") if args.out else CLASSIFIER_ASSET
        s = train_inpaint(cfg, out, clf_out)
        print(
            f"PRIME inpainting: test PSNR of the masked square {s['test_psnr_masked']:.2f} dB "
            f"(all {cfg.model.steps} steps), whole image {s['test_psnr_full']:.2f} dB; "
            f"digit classifier {100 * s['classifier']['test_acc']:.2f} %; "
            f"{s['train_time_s']:.0f} s"
        )
        return 0
    if args.workload in ("twin-hp", "twin-l96"):
        from dataclasses import replace

        from rramcim.apps.twin import train as twin

        out = Path(args.out) if args.out else None
        if args.workload == "twin-hp":
            cfg = twin.HPTwinConfig()
            cfg = replace(cfg, recipe=replace(cfg.recipe, seed=args.seed))
            twin.train_hp(cfg, out or twin.HP_ASSET)
        else:
            cfg = twin.L96TwinConfig()
            cfg = replace(cfg, recipe=replace(cfg.recipe, seed=args.seed))
            twin.train_l96(cfg, out or twin.L96_ASSET)
        return 0
    if args.workload in ("nfield-ct", "nfield-ct-tiny", "nfield-nvs", "nfield-nvs-hw"):
        from rramcim.apps.nfield import train as ntrain

        out = Path(args.out) if args.out else None
        if args.workload == "nfield-nvs-hw":
            from rramcim.apps.nfield.nvs_hw import train_nvs_hw_asset

            train_nvs_hw_asset(out)
        elif args.workload == "nfield-ct":
            ntrain.train_ct(out or ntrain.CT_ASSET)
        elif args.workload == "nfield-ct-tiny":
            ntrain.train_ct_tiny(out or ntrain.CT_TINY_ASSET)
        else:
            ntrain.train_nvs(out or ntrain.NVS_ASSET)
        return 0
    if args.workload in ("diffusion-ring", "diffusion-hku"):
        from rramcim.apps.diffusion import train as dtrain

        out = Path(args.out) if args.out else None
        if args.workload == "diffusion-ring":
            dtrain.train_ring(dtrain.RingConfig(), out or dtrain.RING_ASSET, log=print)
        else:
            dtrain.train_hku(dtrain.HKUConfig(), out or dtrain.HKU_ASSET, log=print)
        return 0
    print(f"rramcim train: unknown workload {args.workload!r}", file=sys.stderr)
    return 2


def cmd_eval(args: argparse.Namespace) -> int:
    """Evaluate a workload at the software and hardware-model levels."""
    if args.workload in ("twin-hp", "twin-l96"):
        from rramcim.apps.twin.evaluate import run_hp_evaluation, run_l96_evaluation

        out_dir = str(Path(args.out) / "sim")
        if args.workload == "twin-hp":
            run_hp_evaluation(out_dir=out_dir)
        else:
            run_l96_evaluation(n_starts=args.samples or 10, out_dir=out_dir)
        return 0
    if args.workload in ("diffusion-ring", "diffusion-hku"):
        from rramcim.apps.diffusion.evaluate import run_hku_evaluation, run_ring_evaluation

        out_dir = str(Path(args.out) / "sim")
        if args.workload == "diffusion-ring":
            run_ring_evaluation(out_dir=out_dir)
        else:
            run_hku_evaluation(out_dir=out_dir)
        return 0
    if args.workload in ("nfield-ct", "nfield-nvs"):
        from rramcim.apps.nfield.sim import nfield_summary_rows, run_nfield_sim

        s = run_nfield_sim(Path(args.out), rtl_sim=None)
        print(
            _table(
                nfield_summary_rows(s), "Neural field (software / weight mapping / hardware model)"
            )
        )
        print(s["projection_table"])
        return 0
    if args.workload == "inpaint":
        from rramcim.apps.prime.inpaint import run_inpaint_evaluation

        run_inpaint_evaluation(n=args.samples, out_dir=str(Path(args.out) / "sim"))
        return 0
    from rramcim.apps.prime.evaluate import run_evaluation

    run_evaluation(
        args.data,
        n_hw=args.samples,
        robustness=args.robustness,
        out_dir=str(Path(args.out) / "sim"),
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Rebuild the HTML report from the last results."""
    from rramcim.report.html import write_report

    print(write_report(Path(args.out)))
    return 0


WORKLOADS = [
    "prime",
    "inpaint",
    "twin-hp",
    "twin-l96",
    "diffusion-ring",
    "diffusion-hku",
    "nfield-ct",
    "nfield-nvs",
]
"""Workloads of ``rramcim train`` and ``rramcim eval``."""


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``rramcim`` command."""
    ap = argparse.ArgumentParser(prog="rramcim", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    t = sub.add_parser("train", help="train a workload and write its checkpoint")
    t.add_argument("workload", choices=[*WORKLOADS, "nfield-ct-tiny", "nfield-nvs-hw"])
    t.add_argument(
        "--data",
        default=str(BUILD / "data" / "ndigits"),
        help="N-MNIST-format dataset root (N-Digits is generated there if missing)",
    )
    t.add_argument("--epochs", type=int, default=20)
    t.add_argument(
        "--inpaint-epochs", type=int, help="epochs of the inpainting VAE (default: its config's)"
    )
    t.add_argument("--seed", type=int, default=0)
    t.add_argument(
        "--out",
        help="checkpoint path (default: the shipped asset; inpaint also writes "
        "<stem>_classifier.npz next to it)",
    )
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="software baseline vs hardware model of a workload")
    e.add_argument("workload", choices=WORKLOADS)
    e.add_argument("--data", default=str(BUILD / "data" / "ndigits"))
    e.add_argument(
        "--samples",
        type=int,
        help="test samples through the hardware model (inpaint: test digits; default all; "
        "twin-l96: starts on the attractor, default 10)",
    )
    e.add_argument("--robustness", action="store_true", help="also the weight-noise sweep")
    e.add_argument("--out", default=str(BUILD))
    e.set_defaults(func=cmd_eval)

    g = sub.add_parser("golden", help="regenerate (or --check) the committed golden vectors")
    g.add_argument("case", nargs="?", default="all", help="<module>/<case> or 'all' (default)")
    g.add_argument("--out", help="write into this folder instead of tests/vectors")
    g.add_argument(
        "--check",
        action="store_true",
        help="compare with the committed vectors; exit 1 on a difference",
    )
    g.add_argument(
        "--readmemh", action="store_true", help="also write $readmemh files of every array"
    )
    g.set_defaults(func=cmd_golden)

    s = sub.add_parser("sim", help="run the end-to-end demos through the RTL and print the summary")
    s.add_argument(
        "--sim", default=os.environ.get("SIM", "icarus"), choices=["icarus", "verilator"]
    )
    s.add_argument(
        "--vectors", type=int, default=64, help="input vectors through the RTL (default 64)"
    )
    s.add_argument(
        "--seed",
        type=int,
        help="COCOTB_RANDOM_SEED of the benches (default: random, logged; the read-path demo: 1)",
    )
    s.add_argument("--out", default=str(BUILD), help="output folder (default build/)")
    s.add_argument(
        "--prime-samples",
        type=int,
        default=int(os.environ.get("PRIME_SAMPLES", 100)),
        help="N-Digits test samples through the PRIME top (default 100; 0 skips PRIME)",
    )
    s.add_argument(
        "--prime-sim",
        default=os.environ.get("PRIME_SIM", "verilator"),
        choices=["icarus", "verilator"],
        help="simulator of the PRIME top (default verilator: on Icarus 11 the top runs about "
        "4 k cycles/s, 100 samples take about 20 min on two cores)",
    )
    s.add_argument(
        "--prime-cross-samples",
        type=int,
        default=int(os.environ.get("PRIME_CROSS_SAMPLES", 4)),
        help="of those samples, how many also run on the other simulator (default 4; "
        "100 with --prime-sim verilator gives the full set on Icarus too)",
    )
    s.add_argument(
        "--ode-samples",
        type=int,
        default=int(os.environ.get("ODE_SAMPLES", 8)),
        help="ring samples of the diffusion batch through the ODE top (default 8, with a "
        "quarter as many of each letter and one HP twin run; 0 skips the ODE workloads)",
    )
    s.add_argument(
        "--ode-sim",
        default=os.environ.get("ODE_SIM", "verilator"),
        choices=["icarus", "verilator"],
        help="simulator of the ODE top (default verilator; one ring and one letter sample "
        "also run on the other simulator)",
    )
    s.add_argument(
        "--no-nfield",
        dest="nfield",
        action="store_false",
        help="skip the neural-field workload (CT and novel views from the shipped checkpoints)",
    )
    s.add_argument(
        "--nfield-sim",
        default=os.environ.get("NFIELD_SIM", "verilator"),
        choices=["icarus", "verilator", "none"],
        help="simulator of the neural-field RTL patches (default verilator; none skips them)",
    )
    s.add_argument(
        "--prime-shards",
        type=int,
        default=2,
        help="parallel simulator processes for the PRIME samples (default 2)",
    )
    s.set_defaults(func=cmd_sim)

    b = sub.add_parser("bench", help="hardware-model MVM throughput vs plain torch matmul")
    b.add_argument("--batch", type=int, default=1024)
    b.add_argument("--repeat", type=int, default=20)
    b.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    b.add_argument("--out", default=str(BUILD))
    b.set_defaults(func=cmd_bench)

    r = sub.add_parser("report", help="rebuild build/report/index.html from the last results")
    r.add_argument("--out", default=str(BUILD))
    r.set_defaults(func=cmd_report)

    args = ap.parse_args(argv)
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
