# make bench (tests/bench/): thinvisor's figures against the same guests booted without it, in
# Bochs with clock: sync=none (the emulated TSC follows the instruction count, so the figures
# repeat run to run). Prints one table and records it, with the date, machine, Bochs and
# commit, in docs/bench-results.md with the charts in docs/bench/ (generated: not edited by
# hand); results.csv, results.json and the per-run logs land in build/bench/. Some minutes (seven Linux boots in Bochs 3.0).
# BOCHS=2.7 measures in Debian's Bochs instead. Included by the Makefile.
# Benchmarks measure, tests prove: nothing here is part of make test.

BENCH_DIR := $(BUILD)/bench
BENCH_DEPS_STAMP := $(BUILD)/.bench-deps-ok

# Debian packages only the bench needs, installed the way `make deps` installs its own.
BENCH_PACKAGES := gnuplot-nox

bench: deps $(BENCH_DEPS_STAMP) all $(GUEST_DIR)/bench-disk.img $(LINUX_DIR)/linux-bench-disk.img
	tests/bench/bench.sh --out $(BENCH_DIR) --bochs $(BOCHS) --doc docs/bench-results.md

bench-deps: $(BENCH_DEPS_STAMP)
$(BENCH_DEPS_STAMP): tests/bench/bench.mk
	$(call install_missing,$(BENCH_PACKAGES), for make bench)
