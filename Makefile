# Set-up in one step: a venv with torch from this machine's disk, then augkit and its extras.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
space := $(subst ,, )

.PHONY: setup demo test lint bench gpu-wheels pyg-samplers clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q -c constraints.txt torch==2.14.1 torchvision==0.29.1
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	touch $@

demo: setup
	$(VENV)/bin/augkit demo

# The tests run PyG's real loaders, so they need the samplers below and fail without them.
test: setup pyg-samplers
	AUGKIT_REQUIRE_PYG_SAMPLERS=1 $(PY) -m pytest -q -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(VENV)/bin/augkit bench --markdown benchmarks/RESULTS.md --out benchmarks/results.json

# Wheels for a CUDA machine without a package registry (benchmarks/gpu_check.sh installs them
# there): the packages its image lacks, at the versions installed here, for CPython 3.12.
GPU_WHEELS := imbalanced-learn sklearn-compat albumentations albucore pydantic pydantic-core \
	annotated-types typing-inspection stringzilla simsimd kornia kornia-rs jsonschema \
	jsonschema-specifications referencing rpds-py
GPU_PLATFORMS := $(foreach p,manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 \
	manylinux1,--platform $(p)_x86_64)

gpu-wheels: setup
	rm -rf .whl && mkdir -p .whl
	$(PIP) list --format=freeze | tr A-Z_ a-z- | grep -E "^($(subst $(space),|,$(strip $(GPU_WHEELS))))==" >.whl/requirements.txt
	$(PIP) download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
		$(GPU_PLATFORMS) -d .whl -r .whl/requirements.txt

# PyG's NeighborLoader/LinkNeighborLoader/HGTLoader sample through pyg-lib or torch-sparse.
# PyPI has no pyg-lib and only torch-sparse sources, built against the installed torch (long
# the first time: C++ extensions; pip caches the wheels) without build isolation, so they
# cannot sit in a pyproject extra.
pyg-samplers: $(VENV)/.pyg-samplers

$(VENV)/.pyg-samplers: $(VENV)/.installed
	MAX_JOBS=$${MAX_JOBS:-2} $(PIP) install -q --no-build-isolation -c constraints.txt \
		'torch-scatter>=2.1.2,<2.2' 'torch-sparse>=0.6.18,<0.7'
	touch $@

clean:
	rm -rf $(VENV) build *.egg-info
