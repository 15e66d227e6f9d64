# vinbig-mmdet: `make demo` runs the whole pipeline on generated data, `make test` runs the tests.
# Both install what is missing first (into $(VENV)).
VENV ?= .venv
PY := $(VENV)/bin/python
# A folder of prebuilt wheels handed to pip as --find-links (CI: ../shared/wheels, when present).
FIND_LINKS ?= $(wildcard ../shared/wheels)
PYTEST_ARGS ?=

.PHONY: install demo test clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml tools/install.sh
	bash tools/install.sh --venv $(VENV) $(if $(FIND_LINKS),--find-links $(FIND_LINKS))
	touch $@

demo: install
	$(PY) tools/demo.py

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf work_dirs data/demo .pytest_cache
