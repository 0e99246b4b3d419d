# mk/tsan.mk - a quick ThreadSanitizer run of the every-call mix and the lock-free pool's
# late-put race test, with the debug quarantine compiled in (which `make test-tsan` in
# mk/concurrency.mk does not: there TARN_QUARANTINE is 0 and the quarantine paths are
# not exercised).  Builds only those programs, in $(BUILD)/tsan-debug.
#   make test-tsan-mix                       any report fails the run (exit code 66)
#   make test-tsan-mix TSAN_MIX_HALT=0       list every report instead of stopping at the
#                                            first (each racing pair once; still fails)
# Not part of `make test` (TEST_EXTRA): `make test-tsan` runs the same tests already.

TSAN_MIX_TESTS ?= test_mt_mix test_mt_mix_fallback test_mt_lfblock_race
TSAN_MIX_HALT  ?= 1
TSAN_MIX_FLAGS  = -fsanitize=thread -fno-omit-frame-pointer

tsan_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: test-tsan-mix

test-tsan-mix:
	$(CMAKE) -S . -B $(BUILD)/tsan-debug -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	  -DTARN_WERROR=ON -DTARN_TEST_SCALE=1 \
	  "-DCMAKE_C_FLAGS=$(TSAN_MIX_FLAGS) -O1 -g -DTARN_QUARANTINE=16" \
	  "-DCMAKE_EXE_LINKER_FLAGS=$(TSAN_MIX_FLAGS)" >/dev/null
	$(CMAKE) --build $(BUILD)/tsan-debug -j$(JOBS) $(addprefix --target ,$(TSAN_MIX_TESTS))
	cd $(BUILD)/tsan-debug && \
	  TSAN_OPTIONS=halt_on_error=$(TSAN_MIX_HALT):abort_on_error=0:exitcode=66:suppress_equal_addresses=0 \
	  $(CTEST) -R '^($(subst $(space),|,$(strip $(TSAN_MIX_TESTS))))$$'

.DEFAULT_GOAL := $(tsan_mk_goal_)
