# Thin wrapper over CMake: the README's two commands are `make demo` and `make test`.
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
# -Werror: off for `make`, `make demo` and `make install` (as in CMake, where NR_WERROR defaults
# to OFF), on for the test targets, so CI fails on any new compiler warning.
WERROR     ?= OFF

FUZZ_TIME  ?= 20

.PHONY: all deps build build-asan demo test test-fast test-asan bench install clean \
	memcheck fuzz-smoke deb

all: build

deps:
	@scripts/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DNR_STATIC_CLI=ON -DNR_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DNR_SANITIZE=ON -DNR_WERROR=$(WERROR) $(CMAKE_ARGS) >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# The main job on the built-in example.
demo: build
	@scripts/demo $(BUILD)

# Every test: the full suite on the normal build, unit + CLI tests under ASan+UBSan, a fuzzing
# smoke run of every harness, and unit + CLI tests under valgrind memcheck.
# (a target-specific variable: it also holds for the prerequisites build and build-asan)
test test-fast memcheck: WERROR = ON

test: build build-asan
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j $(JOBS) -L 'unit|cli'
	fuzz/run.sh $(FUZZ_TIME)
	scripts/ci-memcheck $(BUILD) -j $(JOBS)

# Unit + CLI tests (and the fuzz corpus replays) under valgrind memcheck: no leaks, no errors.
memcheck: build
	scripts/ci-memcheck $(BUILD) -j $(JOBS)

# Each libFuzzer harness for FUZZ_TIME seconds (clang build in build-fuzz; see fuzz/run.sh).
fuzz-smoke: deps
	fuzz/run.sh $(FUZZ_TIME)

test-fast: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) -L 'unit|cli'

bench: build
	@bench/run $(BUILD)

install: build
	cmake --install $(BUILD)

# Debian packages (debhelper): libnonroot0.2, libnonroot-dev, nonroot, python3-nonroot,
# libnonroot-java, libnonroot-perl in $(BUILD)/deb, lintian clean of errors. CTest deb.install
# (label deb, part of `make test`) installs them into a fresh debootstrap chroot and uses each.
deb: deps
	JOBS=$(JOBS) scripts/make-deb $(BUILD)/deb

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
