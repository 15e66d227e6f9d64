# vinbig-mmdet: `make demo` runs the whole pipeline on generated data, `make test` runs the tests.
# Both install what is missing first (into $(VENV)).
VENV ?= .venv
PY := $(VENV)/bin/python
# A folder of prebuilt wheels handed to pip as --find-links (CI: ../shared/wheels, when present).
FIND_LINKS ?= $(wildcard ../shared/wheels)
PYTEST_ARGS ?=

.PHONY: install demo test clean chromium

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml tools/install.sh
	bash tools/install.sh --venv $(VENV) $(if $(FIND_LINKS),--find-links $(FIND_LINKS))
	touch $@

demo: install
	$(PY) tools/demo.py

test: install
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || $(MAKE) --no-print-directory chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# Headless Chromium renders tools/report.py's page in the tests; without it that check is skipped, with a message.
chromium:
	@echo "[install] chromium (Debian package) for the report rendering test"
	@(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
		|| echo "[install] chromium could not be installed: the report rendering test will be skipped"

clean:
	rm -rf work_dirs data/demo .pytest_cache
