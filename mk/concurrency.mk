# mk/concurrency.mk - concurrency evidence for `make test`:
#   make test-tsan   the multi-thread tests (test_mt_*, test_handle_threads, test_ckremm_host) and the lock-free pool's tests
#                    (test_lfblock*) built with clang -fsanitize=thread in $(BUILD)/tsan
#                    (only those programs are built); TSAN_SCALE: TARN_TEST_SCALE of that
#                    build (default 1: full length)
#   make test-spin   the Promela model of the lock-free pool's get/put (tests/spin), checked
#                    with spin; fails when spin or a C compiler is missing

TSAN       ?= -fsanitize=thread -fno-omit-frame-pointer
TSAN_SCALE ?= 1

# Defining rules here must not change the Makefile's default goal.
concurrency_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: test-tsan test-spin

TSAN_TESTS = $(sort $(patsubst tests/%.c,%,$(wildcard tests/test_mt_*.c tests/test_lfblock*.c \
               tests/test_handle_threads.c tests/test_ckremm_host.c)))

test-tsan:
	$(call configure,tsan,RelWithDebInfo,clang,-DTARN_TEST_SCALE=$(TSAN_SCALE) \
	  "-DCMAKE_C_FLAGS=$(TSAN) -O1 -g" "-DCMAKE_EXE_LINKER_FLAGS=$(TSAN)",$(TSAN_TESTS))
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1:abort_on_error=0:exitcode=66 \
	  $(CTEST) -R '^($(subst $(space),|,$(TSAN_TESTS)))$$'

test-spin:
	JOBS=$(JOBS) tests/spin/run.sh $(BUILD)/spin

.DEFAULT_GOAL := $(concurrency_mk_goal_)

TEST_EXTRA += test-tsan test-spin
