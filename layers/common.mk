# Shared by layers/*/Makefile (SharedLayer, ImagingLayer, VectorsLayer; template.yaml: BuildMethod: makefile).
#
# Each layer folder holds a symlink common.mk -> ../common.mk, and its Makefile includes that with a path
# derived from the Makefile's own location, never from the working directory (SAM runs
# `make --makefile <repo>/layers/<name>/Makefile build-<LogicalId>` from a scratch copy of ContentUri):
#
#   LAYER_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
#   include $(LAYER_DIR)/common.mk
#
# The symlinks are what makes `sam build` (cached = true) notice edits to this file: SAM keys a layer's
# build cache on the contents of its ContentUri (layers/<name>/) and follows symlinks when hashing it.
# Without them, an edit here would leave every cached layer stale.

# Any Python 3.12 with pip; only used to download wheels, never to build them.
PYTHON ?= python3.12

# Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34), so manylinux_2_28 / 2_34 wheels work too.
# Some pins (pydantic-core, rpds-py) ship manylinux2014 wheels only; newer numpy/pillow ship 2_28 only.
PIP_PLATFORM_FLAGS := --platform manylinux2014_x86_64 --platform manylinux_2_28_x86_64 \
	--platform manylinux_2_34_x86_64 --implementation cp --python-version 3.12 --only-binary=:all:

# --no-compile: pip's .pyc files are checked against source timestamps, and SAM zips layers with every
# timestamp set to 1980-01-01, so they would never match in Lambda (and /opt is read-only, so nothing new
# is ever written). compile_bytecode below writes the kind that works there instead.
PIP_INSTALL = $(PYTHON) -m pip install --disable-pip-version-check --no-input --quiet --upgrade \
	--root-user-action=ignore --no-compile $(PIP_PLATFORM_FLAGS)

# $(call prune_site_packages,<dir>): removes from <dir> (a layer's python/) what Lambda never runs or
# imports. Leaves every *.dist-info directory (importlib.metadata reads METADATA, entry_points.txt and
# licenses/) and drops only its RECORD (the installer's file list, stale once files are pruned).
#   bin/                      console scripts; nothing puts /opt/python/bin on PATH
#   __pycache__, *.pyc        see --no-compile above
#   */tests                   test suites, e.g. numpy/_core/tests, jsonschema/tests
#   *.pyi, *-stubs/           type stubs; Python never imports them
#   numpy/_core/include       C headers, only for compiling extensions against numpy
# The finds skip *.dist-info trees so that license files are never touched.
# Kept on purpose: `testing` packages. numpy/testing (0.2 MB) looks like test-only code, but numpy's
# __all__ names it, so `from numpy import *` (numpy.matlib does that) imports it and fails without it.
define prune_site_packages
	cd "$(1)" && rm -rf bin
	cd "$(1)" && find . -name '*.dist-info' -prune -o -type d \
		\( -name __pycache__ -o -name tests -o -name '*-stubs' \) -prune -exec rm -rf {} +
	cd "$(1)" && find . -name '*.dist-info' -prune -o -type f \( -name '*.pyc' -o -name '*.pyi' \) -exec rm -f {} +
	cd "$(1)" && rm -f *.dist-info/RECORD
	cd "$(1)" && rm -rf numpy/_core/include
endef

# $(call install_requirements,<extra pip flags>): the layer's requirements.txt into $(ARTIFACTS_DIR)/python,
# as Lambda wheels, pruned. Every layer Makefile starts with it.
define install_requirements
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (run through sam build)"; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)/python"
	$(PIP_INSTALL) $(1) --target "$(ARTIFACTS_DIR)/python" -r "$(LAYER_DIR)/requirements.txt"
	$(call prune_site_packages,$(ARTIFACTS_DIR)/python)
endef

# $(call compile_bytecode,<dir>): .pyc files Lambda can use. unchecked-hash bytecode is trusted without
# looking at the source's timestamp (which the zip resets) - right for files that never change once
# deployed. Without it every cold start compiles every module it imports (measured: 3x slower init).
define compile_bytecode
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(1)" > /dev/null
endef
