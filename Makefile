# Two commands do everything on a fresh machine:
#   make run   - set up .venv and run the pipeline on the bundled round into outputs/
#   make test  - set up .venv (+ Chromium for the report test) and run the test suite
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup run test lint bench chromium

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# CPU build of PyTorch first: an unpinned torch would pull a multi-GB CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	# Exact versions (constraints.txt): a new release of a library must not change the outputs' bytes under CI.
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: setup
	$(VENV)/bin/advisory run

chromium:
	@# fontconfig and DejaVu: the no-Korean-font report test runs Chromium under a fontconfig that knows only DejaVu.
	@(command -v chromium && command -v fc-list && test -d /usr/share/fonts/truetype/dejavu) >/dev/null 2>&1 || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fontconfig fonts-dejavu-core >/dev/null)

test: setup chromium
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check pipeline tests bench

# The quick study (read + parse a synthetic 10,000-unit round): its figures go to bench/results/parse.json
# and bench/README.md's tables are regenerated from bench/results/ (see bench/README.md for the others).
bench: setup
	$(PY) -m bench.speed.parse 10000
	$(PY) -m bench.report
