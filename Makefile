# rramcim — the two commands of the README are `make sim` and `make test`.
# Run `make help` for every target and variable.

SHELL      := /bin/bash
PYTHON     ?= python3
VENV       ?= .venv
PY         := $(VENV)/bin/python
SIM        ?= icarus
WAVES      ?= 0
SEED       ?=
JOBS       ?= 2
# work stealing: an idle worker takes queued tests from the other (conftest.py puts the long
# benches first); the 25 slowest tests are listed at the end of every run
PYTEST_DIST = --dist worksteal --durations=25
VECTORS    ?= 64

export WAVES
ifneq ($(SEED),)
export SEED
endif

.PHONY: help bootstrap sim test test-full lint lint-rtl lint-py synth golden bench report clean

help: ## list targets and variables
	@echo "rramcim make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | awk -F'\t' '{printf "  %-11s %s\n", $$1, $$2}'
	@echo
	@echo "variables:"
	@echo "  SIM=icarus|verilator  simulator of 'make sim' (default icarus); for 'make test' it"
	@echo "                        restricts the benches to one simulator (default: both)"
	@echo "  WAVES=1               dump waveforms into the bench's sim_build/<sim>/<node>/ folder"
	@echo "  SEED=N                fix COCOTB_RANDOM_SEED of every bench (default: random, logged)"
	@echo "  JOBS=N                parallel pytest workers and Yosys runs (default 2)"
	@echo "  VECTORS=N             input vectors of the 'make sim' read-path demo (default 64)"
	@echo "  PRIME_SAMPLES=N       N-Digits samples of 'make sim' through the PRIME top (default 100,"
	@echo "                        0 skips PRIME)"
	@echo "  PRIME_SIM=...         simulator of the PRIME top in 'make sim' (default verilator)"
	@echo "  PRIME_CROSS_SAMPLES=N samples that also run on the other simulator (default 4;"
	@echo "                        100 runs the full set on Icarus as well, about 20 min more)"
	@echo "  ODE_SAMPLES=N         diffusion ring samples of 'make sim' through the ODE top"
	@echo "                        (default 8, plus N/4 of each letter and one HP twin run;"
	@echo "                        0 skips the twins and diffusion)"
	@echo "  ODE_SIM=...           simulator of the ODE top in 'make sim' (default verilator)"
	@echo "  NFIELD_SIM=...        simulator of the neural-field RTL patches in 'make sim'"
	@echo "                        (icarus, verilator (default) or none)"
	@echo "  PYTHON=python3.11     interpreter used to create $(VENV)"

bootstrap: ## create .venv and install simulators and packages (done by every target)
	@PYTHON=$(PYTHON) VENV=$(VENV) bash scripts/bootstrap.sh

sim: bootstrap ## run every workload end to end on SIM, print the summary, write build/report/
	$(PY) -m rramcim.cli sim --sim $(SIM) --vectors $(VECTORS) $(if $(SEED),--seed $(SEED),) \
	  $(if $(PRIME_SAMPLES),--prime-samples $(PRIME_SAMPLES),) $(if $(PRIME_SIM),--prime-sim $(PRIME_SIM),) \
	  $(if $(PRIME_CROSS_SAMPLES),--prime-cross-samples $(PRIME_CROSS_SAMPLES),) \
	  $(if $(ODE_SAMPLES),--ode-samples $(ODE_SAMPLES),) $(if $(ODE_SIM),--ode-sim $(ODE_SIM),) \
	  $(if $(NFIELD_SIM),--nfield-sim $(NFIELD_SIM),)

test: bootstrap lint synth ## full regression: unit tests and every cocotb bench on both simulators
	$(PY) -m pytest -n $(JOBS) $(PYTEST_DIST) -m "not slow" tests tb
	@echo "make test: all checks passed"

test-full: bootstrap lint synth ## regression including the slow sweeps
	$(PY) -m pytest -n $(JOBS) $(PYTEST_DIST) tests tb

lint: lint-rtl lint-py ## Verilator -Wall, iverilog -Wall and ruff

lint-rtl: bootstrap
	@VENV=$(VENV) bash scripts/lint.sh

lint-py: bootstrap
	$(VENV)/bin/ruff check python tests tb conftest.py
	$(VENV)/bin/ruff format --check python tests tb conftest.py

synth: bootstrap ## Yosys synthesis of every rtl/ block: cells, flops, no latches
	@JOBS=$(JOBS) bash scripts/synth.sh

golden: bootstrap ## regenerate the committed golden vectors (tests/vectors/)
	$(PY) -m rramcim.cli golden all

bench: bootstrap ## hardware-model speed vs plain torch, side by side
	$(PY) -m rramcim.cli bench

report: bootstrap ## rebuild build/report/index.html from the last 'make sim' results
	$(PY) -m rramcim.cli report

clean: ## remove build outputs (keeps .venv)
	rm -rf build sim_build .pytest_cache results.xml
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
