# vinbig-mmdet: `make demo` runs the whole pipeline on generated data, `make test` runs the tests (lint and the whole
# suite), `make test-fast` the unit and in-process tests without training (the inner loop while developing).
# Both install what is missing first (into $(VENV)). `make test-compat` runs the tests again on the GPU machines'
# stack (python 3.12, torch 2.11), in its own environment $(COMPAT_VENV).
VENV ?= .venv
PY := $(VENV)/bin/python
# A folder of prebuilt wheels handed to pip as --find-links (CI: ../shared/wheels, when present).
FIND_LINKS ?= $(wildcard ../shared/wheels)
PYTEST_ARGS ?=

# The second tested stack. mmcv comes from COMPAT_FIND_LINKS when a wheel there fits (../shared/wheels-gpu has one
# built for exactly this torch, with CUDA ops for sm_90, that also loads on a CPU), else it is built from source.
COMPAT_VENV ?= .venv-compat
COMPAT_PYTHON ?= python3.12
COMPAT_TORCH ?= 2.11.0
COMPAT_TORCHVISION ?= 0.26.0
COMPAT_FIND_LINKS ?= $(wildcard ../shared/wheels-gpu)

.PHONY: install install-compat demo pipeline-demo lint test test-fast test-compat clean chromium

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml tools/install.sh
	bash tools/install.sh --venv $(VENV) $(if $(FIND_LINKS),--find-links $(FIND_LINKS))
	touch $@

install-compat: $(COMPAT_VENV)/.installed

$(COMPAT_VENV)/.installed: pyproject.toml tools/install.sh
	bash tools/install.sh --venv $(COMPAT_VENV) --python $(COMPAT_PYTHON) --isolated \
		--torch $(COMPAT_TORCH) --torchvision $(COMPAT_TORCHVISION) $(if $(COMPAT_FIND_LINKS),--find-links $(COMPAT_FIND_LINKS))
	touch $@

demo: install
	$(PY) tools/demo.py

# The whole recipe at toy scale (generated data, 2 folds x 2 tiny detectors + the classifier, CV, tuned ensemble,
# filtered submission, summary) on the CPU; a second run does nothing (docs/pipeline.md).
pipeline-demo: install
	$(PY) tools/pipeline.py configs/pipeline/recipe_demo.py

# The lint (ruff; rules in pyproject.toml, as MMYOLO's pre-commit: pyflakes, pycodestyle, isort, 120 columns).
lint: install
	$(PY) -m ruff check .

# The 15 slowest tests are listed at the end, so that a slow newcomer is seen.
test: install lint
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	$(PY) -m pytest --durations=15 $(PYTEST_ARGS)

# No training, no tool in a new process (the `e2e` and `slow` markers, pyproject.toml): under 3 minutes on 2 cores.
test-fast: install lint
	$(PY) -m pytest -m "not e2e" --durations=5 $(PYTEST_ARGS)

test-compat: install-compat
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	$(COMPAT_VENV)/bin/python -m pytest --durations=15 $(PYTEST_ARGS)

# Headless Chromium renders tools/report.py's page in the tests; without it that check is skipped, with a message.
chromium:
	@echo "[install] chromium (Debian package) for the report rendering test"
	@(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "[install] chromium could not be installed: the report rendering test will be skipped"

clean:
	rm -rf work_dirs data/demo data/pipeline-demo .pytest_cache
