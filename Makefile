# tarn - thin driver over CMake.
#   make run     build and run the demo (examples/demo); prints only the demo, or the compiler's
#                output when the build fails
#   make test    the whole suite, one line per part (name, result, seconds), then
#                "N passed, N failed"; each part's output in $(BUILD)/logs/<part>.log, shown
#                only for a part that failed; every part runs even when one fails
#   make check   the edit-and-test loop: the gcc and ASan+UBSan builds with their ctest, long
#                randomized tests shortened (CHECK_SCALE)
#   make deps    install what tools/deps.txt lists (`make test` does this first)
# Each part of `make test` is a target of its own: `make test-asan`, `make lint`, ...
JOBS    ?= 2
CMAKE   ?= cmake
CTEST   ?= ctest --output-on-failure -j$(JOBS)
# --fair-sched=yes: threads take Valgrind's lock in turn.  Without it a thread spinning on
# sched_yield could starve the others: test_mt_lfblock_signal, whose firing thread waits
# for the main thread's signal handler, took 3 s, 26 s or more than 10 minutes.
VALGRIND = valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet --fair-sched=yes
space   := $(subst ,, )
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The sanitizer builds compile the debug quarantine in (tests turn it on per pool with
# TARN_F_QUARANTINE); the strict build adds canary mode to every block as well.
DEBUGOPT = -DTARN_QUARANTINE=16
# Ninja when present (Debian: ninja-build): it builds the ~80 test programs of a
# configuration with less overhead than CMake's Makefiles.
GENERATOR ?= $(if $(shell command -v ninja 2>/dev/null),Ninja,Unix Makefiles)
# TARN_TEST_SCALE of the configurations that repeat the randomized runs of test-gcc
# (test-m32, test-strict): 10, as on QEMU.  test-gcc and the sanitizer builds
# run every test at full length; Valgrind at 1/40 (VALGRIND_SCALE).
REPEAT_SCALE ?= 10
# TARN_TEST_SCALE under Valgrind: what it adds is memcheck over the same paths, which the
# shortened runs take too; full lengths run in test-gcc and test-asan.
VALGRIND_SCALE ?= 40
# TARN_TEST_SCALE of `make check`.
CHECK_SCALE ?= 10
# Tests whose checks need the full length, left out where the length is divided (they run
# at full length in test-gcc, test-asan and test-tsan).  None today: test_handle_threads,
# which needs the compactor thread to have moved something, now runs on until it has.
SCALE_FRAGILE ?=
CTEST_SCALED = $(CTEST) $(if $(strip $(SCALE_FRAGILE)),-E '^($(subst $(space),|,$(strip $(SCALE_FRAGILE))))$$')

BUILD   ?= build
# $(call libc_added,WITHOUT_ELF,WITH_ELF,NAMES): a shell command printing the bytes of the
# functions whose names match the awk pattern NAMES (e.g. memcpy|memset) that WITH_ELF
# links and WITHOUT_ELF does not (newlib's start-up code links memset into every image, so
# only what the module adds is counted).  Used by the image-size targets of mk/*.mk.
libc_added = { arm-none-eabi-nm -S -t d $(1) | sed 's/^/0 /'; arm-none-eabi-nm -S -t d $(2) | sed 's/^/1 /'; } | \
	awk '$$5 ~ /^($(3))$$/ {if ($$1 == 0) o[$$5] = 1; else z[$$5] = $$3} \
	END {for (f in z) if (!(f in o)) s += z[f]; print s + 0}'
# Each mk/<part>.mk adds its own targets and may append to TEST_EXTRA (run by `make test`).
TEST_EXTRA :=
-include $(sort $(wildcard mk/*.mk))

# The parts of `make test`, in the order they run.
TEST_PARTS = test-gcc test-asan test-valgrind test-m32 test-strict cross lint $(TEST_EXTRA)

.PHONY: all run deps test check check-gcc check-asan test-gcc test-asan test-valgrind \
        test-matrix test-m32 test-strict cross size bench lint coverage clean

all: test

# $(call configure,DIR,BUILD_TYPE,C_COMPILER,CMAKE_ARGS[,TARGETS]): one shell command that
# configures $(BUILD)/DIR and builds it (only TARGETS when given).  A directory configured
# by another generator is started afresh.
configure = c=$(BUILD)/$(1)/CMakeCache.txt; \
  if [ -f $$c ] && ! grep -qx 'CMAKE_GENERATOR:INTERNAL=$(GENERATOR)' $$c; then rm -rf $(BUILD)/$(1); fi; \
  $(CMAKE) -G "$(GENERATOR)" -S . -B $(BUILD)/$(1) -DCMAKE_BUILD_TYPE=$(2) -DCMAKE_C_COMPILER=$(3) \
    -DTARN_WERROR=ON $(4) >/dev/null && \
  $(CMAKE) --build $(BUILD)/$(1) -j$(JOBS) $(if $(5),--target $(5))

run:
	@mkdir -p $(BUILD)/logs
	@if ! { $(call configure,gcc,Release,gcc,,example_demo); } >$(BUILD)/logs/run.log 2>&1; then \
	  cat $(BUILD)/logs/run.log >&2; echo "make run: the build FAILED (log: $(BUILD)/logs/run.log)" >&2; exit 1; fi
	@./$(BUILD)/gcc/example_demo $(BUILD)/heapmap.svg

# Packages the tests need (tools/deps.txt): installed when missing and possible, otherwise
# stop with the command to run.
deps:
	@DEPS_LOG=$(BUILD)/logs/deps.log tools/deps.sh

# Dependencies first (stops at once when something is missing and cannot be installed);
# then every part, one line each (tools/parts.sh).
test: deps
	@MAKE="$(MAKE)" tools/parts.sh $(BUILD)/logs $(TEST_PARTS)

# The edit-and-test loop, in its own build directories (long randomized tests divided by
# CHECK_SCALE): what `make test` runs first, in a fraction of the time.
check:
	@MAKE="$(MAKE)" tools/parts.sh $(BUILD)/logs check-gcc check-asan

ASAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
# -Os: the code the modules compile only for size (__OPTIMIZE_SIZE__: out-of-line block and
# lock-free get/put, the heap's word-copy realloc and one-path region realloc) runs here under
# the sanitizers, built by clang (test-m32 runs it without them, built by gcc); clang also
# compiles -Os faster than -O1 with ASan.  Build type None: no -O or -g from CMake;
# -gline-tables-only gives the reports their file:line at a third less compile time than -g.
# Linked by lld (about 100 programs; ld.bfd takes a third longer on the ASan runtime).
ASAN_CMAKE = "-DCMAKE_C_FLAGS=$(SAN) -Os -gline-tables-only $(DEBUGOPT)" "-DCMAKE_EXE_LINKER_FLAGS=$(SAN) -fuse-ld=lld"

check-gcc:
	$(call configure,check-gcc,Release,gcc,-DTARN_TEST_SCALE=$(CHECK_SCALE))
	cd $(BUILD)/check-gcc && $(CTEST_SCALED)

check-asan:
	$(call configure,check-asan,None,clang,$(ASAN_CMAKE) -DTARN_TEST_SCALE=$(CHECK_SCALE))
	cd $(BUILD)/check-asan && $(ASAN_ENV) $(CTEST_SCALED)

# gcc Release: every test at full length (the reference run of the randomized tests).
test-gcc:
	$(call configure,gcc,Release,gcc,)
	cd $(BUILD)/gcc && $(CTEST)

# ASan+UBSan (clang -Os, quarantine compiled in): every test at full length.
test-asan:
	$(call configure,asan,None,clang,$(ASAN_CMAKE))
	cd $(BUILD)/asan && $(ASAN_ENV) $(CTEST)

test-valgrind:
	$(call configure,valgrind,None,gcc,"-DCMAKE_C_FLAGS=-O1 -g1 -DTARN_SANITIZE=1 $(DEBUGOPT)" -DTARN_TEST_SCALE=$(VALGRIND_SCALE) "-DTARN_TEST_WRAPPER=$(subst $(space),;,$(VALGRIND))")
	cd $(BUILD)/valgrind && $(CTEST)

# Portability matrix: a 32-bit host build, and the strictest configuration (full integrity
# check on every call, freed memory poisoned, canary mode, quarantine compiled in, portable
# bit scans instead of intrinsics).  Both repeat test-gcc's randomized runs (32-bit cores
# run them on QEMU too), so their lengths are divided by REPEAT_SCALE: every test and every
# check of the strict build still runs, on 1/10 of the operations (at full length the
# level-2 check on every call made test_heap_model alone take minutes).
test-matrix: test-m32 test-strict

# The 32-bit tests run natively where the kernel runs i386 programs, else under qemu-i386
# (tools/m32_wrapper.sh prints which), whose emulation makes them several times slower:
# there the randomized tests run at 1/VALGRIND_SCALE of their length, as under Valgrind.
# Built -Os: the code compiled only for size runs here in a build without sanitizers (the
# block pools' inline fast paths are compiled out under ASan and Valgrind).
test-m32:
	w=$$(tools/m32_wrapper.sh $(BUILD)); sc=$(REPEAT_SCALE); [ -z "$$w" ] || sc=$(VALGRIND_SCALE); \
	$(call configure,m32,Release,gcc,"-DCMAKE_C_FLAGS=-m32" "-DCMAKE_C_FLAGS_RELEASE=-Os -DNDEBUG" "-DCMAKE_EXE_LINKER_FLAGS=-m32" -DTARN_TEST_SCALE=$$sc "-DTARN_TEST_WRAPPER=$$w")
	cd $(BUILD)/m32 && $(CTEST_SCALED)

test-strict:
	$(call configure,strict,Release,gcc,"-DCMAKE_C_FLAGS=-DTARN_CHECK_LEVEL=2 -DTARN_POISON_FREE=1 -DTARN_GUARD=1 $(DEBUGOPT) -DTARN_NO_INTRINSICS=1" -DTARN_TEST_SCALE=$(REPEAT_SCALE))
	cd $(BUILD)/strict && $(CTEST_SCALED)

cross:
	BUILD=$(BUILD) tools/cross.sh

size:
	BUILD=$(BUILD) tools/cross.sh size

bench:
	$(CMAKE) -S . -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc -DTARN_BUILD_BENCH=ON \
	  "-DCMAKE_C_FLAGS=-DTARN_SANITIZE=0" >/dev/null
	$(CMAKE) --build $(BUILD)/bench -j$(JOBS)
	@for b in $(BUILD)/bench/bench_*; do echo "== $$b"; $$b $(BENCH_ARGS) || exit 1; done

# Static analysis of the library and compat layers: cppcheck and clang-tidy (.clang-tidy).
LINT_SRC = $(wildcard src/*.c compat/*/*.c)
LINT_INC = -Iinclude -Isrc $(addprefix -I,$(wildcard compat/*))
lint:
	cppcheck -j $(JOBS) --enable=warning,style,performance,portability --std=c99 --inline-suppr \
	  --error-exitcode=1 -q $(LINT_INC) -UTARN_CONFIG_FILE -DTARN_SANITIZE=0 -D__GNUC__ \
	  --suppress=missingIncludeSystem --suppress=variableScope --suppress=unusedFunction $(LINT_SRC)
	@# clang-tidy, JOBS files at a time; each file's findings printed together
	@printf '%s\n' $(LINT_SRC) | xargs -P $(JOBS) -n 1 sh -c 'f=$$1; std=c99; grep -q stdatomic.h $$f && std=c11; \
	  out=$$(clang-tidy -quiet $$f -- -std=$$std $(LINT_INC) -DTARN_SANITIZE=0 2>&1); rc=$$?; \
	  echo "$$out" | grep -v "warnings generated" | grep . ; exit $$rc' sh
	@echo "lint: cppcheck and clang-tidy clean on $(words $(LINT_SRC)) files"

# Line and branch coverage of src/ and compat/ over the whole suite (gcov + gcovr), with the
# debug quarantine compiled in and freed memory poisoned (the tests that turn the quarantine
# on, and check for writes after free, cover that code in the library itself).
coverage:
	$(CMAKE) -S . -B $(BUILD)/coverage -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc \
	  "-DCMAKE_C_FLAGS=--coverage -fprofile-update=atomic -O0 -DTARN_SANITIZE=0 -DTARN_POISON_FREE=1 $(DEBUGOPT)" "-DCMAKE_EXE_LINKER_FLAGS=--coverage" >/dev/null
	$(CMAKE) --build $(BUILD)/coverage -j$(JOBS)
	find $(BUILD)/coverage -name '*.gcda' -delete
	cd $(BUILD)/coverage && $(CTEST) >/dev/null || echo "coverage: some tests FAILED (figures below still show what ran)"
	@# Only the library's own objects: some tests compile a module's .c again with other
	@# options, and gcovr cannot merge those.
	gcovr -r . $(BUILD)/coverage/CMakeFiles/tarn.dir $(BUILD)/coverage/CMakeFiles/tarn_compat.dir \
	  -f 'src/' -f 'compat/' \
	  --exclude-unreachable-branches --exclude-throw-branches \
	  --txt $(BUILD)/coverage/coverage.txt --html-details $(BUILD)/coverage/index.html --print-summary
	@echo "details: $(BUILD)/coverage/coverage.txt, $(BUILD)/coverage/index.html"

clean:
	rm -rf $(BUILD)
