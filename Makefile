# Set-up in one step: a venv with torch from this machine's disk, then augkit and its extras.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

demo: setup
	$(VENV)/bin/augkit demo

test: setup
	$(PY) -m pytest -q -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(VENV)/bin/augkit bench --markdown benchmarks/RESULTS.md --out benchmarks/results.json

clean:
	rm -rf $(VENV) build *.egg-info
