# tarn - thin driver over CMake.  `make run` builds and runs the demo; `make test` runs
# the whole suite: gcc and clang with -Werror, ASan+UBSan, Valgrind memcheck, cross builds.
JOBS    ?= 2
CMAKE   ?= cmake
CTEST   ?= ctest --output-on-failure -j$(JOBS)
VALGRIND = valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --quiet
space   := $(subst ,, )
SAN      = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The sanitizer builds compile the debug quarantine in (tests turn it on per pool with
# TARN_F_QUARANTINE); the strict build adds canary mode to every block as well.
DEBUGOPT = -DTARN_QUARANTINE=16

BUILD   ?= build
# Each mk/<part>.mk adds its own targets and may append to TEST_EXTRA (run by `make test`).
TEST_EXTRA :=
-include $(sort $(wildcard mk/*.mk))

.PHONY: all run test test-gcc test-clang test-asan test-valgrind test-matrix cross size bench lint coverage clean

all: test

define configure
	$(CMAKE) -S . -B $(BUILD)/$(1) -DCMAKE_BUILD_TYPE=$(2) -DCMAKE_C_COMPILER=$(3) -DTARN_WERROR=ON $(4) >/dev/null
	$(CMAKE) --build $(BUILD)/$(1) -j$(JOBS)
endef

run:
	$(CMAKE) -S . -B $(BUILD)/gcc -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc -DTARN_WERROR=ON >/dev/null
	$(CMAKE) --build $(BUILD)/gcc -j$(JOBS) --target example_demo
	./$(BUILD)/gcc/example_demo $(BUILD)/heapmap.svg

test: test-gcc test-clang test-asan test-valgrind test-matrix cross lint $(TEST_EXTRA)
	@echo "make test: all suites passed"

test-gcc:
	$(call configure,gcc,Release,gcc,)
	cd $(BUILD)/gcc && $(CTEST)

test-clang:
	$(call configure,clang,Release,clang,)
	cd $(BUILD)/clang && $(CTEST)

test-asan:
	$(call configure,asan,Debug,clang,"-DCMAKE_C_FLAGS=$(SAN) -O1 $(DEBUGOPT)" "-DCMAKE_EXE_LINKER_FLAGS=$(SAN)")
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 $(CTEST)

test-valgrind:
	$(call configure,valgrind,Debug,gcc,"-DCMAKE_C_FLAGS=-O1 -g $(DEBUGOPT)" -DTARN_TEST_SCALE=20 "-DTARN_TEST_WRAPPER=$(subst $(space),;,$(VALGRIND))")
	cd $(BUILD)/valgrind && $(CTEST)

# Portability matrix: a 32-bit host build, and the strictest configuration (full integrity
# check on every call, freed memory poisoned, canary mode, quarantine compiled in, portable
# bit scans instead of intrinsics).
test-matrix:
	$(call configure,m32,Release,gcc,"-DCMAKE_C_FLAGS=-m32" "-DCMAKE_EXE_LINKER_FLAGS=-m32")
	cd $(BUILD)/m32 && $(CTEST)
	$(call configure,strict,Release,gcc,"-DCMAKE_C_FLAGS=-DTARN_CHECK_LEVEL=2 -DTARN_POISON_FREE=1 -DTARN_GUARD=1 $(DEBUGOPT) -DTARN_NO_INTRINSICS=1")
	cd $(BUILD)/strict && $(CTEST)

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
	cppcheck --enable=warning,style,performance,portability --std=c99 --inline-suppr \
	  --error-exitcode=1 -q $(LINT_INC) -UTARN_CONFIG_FILE -DTARN_SANITIZE=0 -D__GNUC__ \
	  --suppress=missingIncludeSystem --suppress=variableScope --suppress=unusedFunction $(LINT_SRC)
	@for f in $(LINT_SRC); do \
	  std=c99; grep -q stdatomic.h $$f && std=c11; \
	  out=$$(clang-tidy -quiet $$f -- -std=$$std $(LINT_INC) -DTARN_SANITIZE=0 2>&1); rc=$$?; \
	  echo "$$out" | grep -v "warnings generated" | grep . ; [ $$rc -eq 0 ] || exit 1; \
	done; echo "lint: cppcheck and clang-tidy clean on $(words $(LINT_SRC)) files"

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
