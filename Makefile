# actdesk: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
PLUGINS := $(sort $(wildcard plugins/actdesk-*))
STAMP  := $(VENV)/.actdesk-setup

.PHONY: setup demo test test-fast test-long bench model package package-check clean-venv

setup: $(STAMP)

# Rebuilt when the app's or a plugin's metadata changes (entry points live there).
$(STAMP): pyproject.toml $(addsuffix /pyproject.toml,$(PLUGINS))
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.14.1 torchvision==0.29.1
	$(PY) -m pip install -q -e '.[test]' $(addprefix -e ,$(PLUGINS))
	@touch $@

# With no screen (no DISPLAY/WAYLAND_DISPLAY) the demo runs offscreen and writes a screenshot.
demo: setup
	$(PY) -m actdesk demo

test: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest

test-fast: setup
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow"

# Training tests past CI's budget on a CPU (r3d-18's and r3d-34's accuracy goals, c3d-attention's short schedule):
# `make test` skips them.
test-long: setup
	ACTDESK_LONG_TESTS=1 QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m long

bench: setup
	$(PY) -m actdesk bench

# Retrain the bundled model (resources/models/) from synthetic training seeds.
model: setup
	$(PY) -m actdesk train --synthetic --model c3d-attention --bundled \
		--out resources/models/c3d-attention-synthetic.safetensors

package: setup
	$(PY) -m pip install -q -e '.[package]'
	$(PY) packaging/build.py

# Build the packaged app and run it: --info, --smoke-test, a third-party plugin (CI, after `make test`).
package-check: package
	$(PY) packaging/smoke_test.py

clean-venv:
	rm -rf $(VENV)
