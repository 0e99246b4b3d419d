# mk/fuzz.mk - libFuzzer builds of the fuzz targets (fuzz/fuzz_<m>.c); see fuzz/README.md.
#
#   make fuzz          build every target with clang -fsanitize=fuzzer,address,undefined and
#                      run each one after the other for FUZZ_SECONDS, seeded with the
#                      committed corpus fuzz/corpus/<m>/, new inputs going to the work corpus
#                      $(BUILD)/fuzz/corpus/<m>/; then print executions, operations and
#                      coverage per target.  Fails if any target found a crash (the input is
#                      left in $(BUILD)/fuzz/artifacts/<m>/).
#   make fuzz-build    only build the targets.
#   make fuzz-merge    minimise committed + work corpus back into fuzz/corpus/<m>/ (inputs
#                      named regress-* - reported or fixed bugs - and soak-* - a few long
#                      sequences - are always kept).
#   make fuzz-cov      line/branch coverage of src/ and compat/ reached by replaying the work
#                      corpus (clang source-based coverage, llvm-cov).
#
#   make fuzz-damage   the damage-containment harnesses (tests/test_heap_damage.c,
#                      tests/test_block_damage.c) at length under ASan+UBSan:
#                      DAMAGE_TRIALS trials per corruption kind (make test runs a few
#                      hundred); part of `make fuzz`.
#
#   FUZZ_TARGETS  targets to run (default: every fuzz/fuzz_<m>.c)
#   FUZZ_SECONDS  seconds per target (default 60)
#   FUZZ_MAX_LEN  longest input libFuzzer generates (default 4096)
#   FUZZ_ARGS     extra libFuzzer flags
#   FUZZ_DEBUG    debug options compiled in (default -DTARN_QUARANTINE=16)
# The corpus replays run in every `make test` variant through CTest (replay_<m>), so this
# file adds nothing to TEST_EXTRA.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 4096
FUZZ_ARGS    ?=
FUZZ_TARGETS ?= $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_DIR      = $(BUILD)/fuzz

fuzz_mk_goal_ := $(.DEFAULT_GOAL)

FUZZ_INC     := -Iinclude -Isrc -Itests $(addprefix -I,$(wildcard compat/*))
FUZZ_SAN     := address,undefined
# The quarantine is compiled in (as in the sanitizer test builds): the targets turn it on
# for some pools through TARN_F_QUARANTINE.  FUZZ_DEBUG adds more (e.g. -DTARN_GUARD=1).
FUZZ_DEBUG   ?= -DTARN_QUARANTINE=16
FUZZ_CFLAGS  := -std=c11 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all \
                -D_POSIX_C_SOURCE=200809L -DTARN_FUZZ_LIBFUZZER -Wall -Wextra $(FUZZ_DEBUG) $(FUZZ_INC)
FUZZ_LIB_SRC := $(sort $(wildcard src/*.c compat/*/*.c tests/support/*.c))
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRC))
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/fuzz_,$(FUZZ_TARGETS))

.PHONY: fuzz fuzz-build fuzz-merge fuzz-cov fuzz-damage

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SAN) -MMD -MP -c $< -o $@

$(FUZZ_DIR)/libtarn_fuzz.a: $(FUZZ_OBJ)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_DIR)/libtarn_fuzz.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SAN) -MMD -MP -MF $@.d $< \
	  $(FUZZ_DIR)/libtarn_fuzz.a -lpthread -o $@

-include $(wildcard $(FUZZ_DIR)/obj/*/*.d $(FUZZ_DIR)/obj/*/*/*.d $(FUZZ_DIR)/*.d)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build fuzz-damage
	fuzz/run.sh run "$(FUZZ_DIR)" "$(FUZZ_SECONDS)" "$(FUZZ_MAX_LEN)" "$(FUZZ_ARGS)" $(FUZZ_TARGETS)

DAMAGE_TRIALS ?= 20000
DAMAGE_LIB_SRC = src/heap.c src/tarn.c src/dump.c tests/support/*.c
fuzz-damage:
	@mkdir -p $(FUZZ_DIR)/damage
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=$(FUZZ_SAN) -fno-sanitize-recover=all \
	  -D_POSIX_C_SOURCE=200809L $(FUZZ_INC) tests/test_heap_damage.c $(DAMAGE_LIB_SRC) \
	  -o $(FUZZ_DIR)/damage/heap
	$(FUZZ_CC) -std=c11 -g -O1 -fsanitize=$(FUZZ_SAN) -fno-sanitize-recover=all \
	  -D_POSIX_C_SOURCE=200809L $(FUZZ_INC) tests/test_block_damage.c src/tarn.c tests/support/*.c \
	  -o $(FUZZ_DIR)/damage/block
	$(FUZZ_DIR)/damage/heap --trials $(DAMAGE_TRIALS)
	$(FUZZ_DIR)/damage/block $(DAMAGE_TRIALS)

fuzz-merge: fuzz-build
	fuzz/run.sh merge "$(FUZZ_DIR)" 0 "$(FUZZ_MAX_LEN)" "$(FUZZ_ARGS)" $(FUZZ_TARGETS)

# Coverage of the library by the corpus: the replay programs built with clang's
# source-based coverage, run over committed + work corpus, summarised per source file.
FUZZ_COV_DIR = $(FUZZ_DIR)/cov
fuzz-cov:
	@mkdir -p $(FUZZ_COV_DIR)
	set -e; for m in $(FUZZ_TARGETS); do \
	  $(FUZZ_CC) -std=c11 -O0 -g -fprofile-instr-generate -fcoverage-mapping \
	    -D_POSIX_C_SOURCE=200809L $(FUZZ_INC) fuzz/fuzz_$$m.c fuzz/replay.c $(FUZZ_LIB_SRC) \
	    -lpthread -o $(FUZZ_COV_DIR)/replay_$$m; \
	  dirs="fuzz/corpus/$$m"; [ -d $(FUZZ_DIR)/corpus/$$m ] && dirs="$$dirs $(FUZZ_DIR)/corpus/$$m"; \
	  LLVM_PROFILE_FILE=$(FUZZ_COV_DIR)/$$m.profraw $(FUZZ_COV_DIR)/replay_$$m $$dirs; \
	  llvm-profdata merge -sparse $(FUZZ_COV_DIR)/$$m.profraw -o $(FUZZ_COV_DIR)/$$m.profdata; \
	  echo "== coverage of the library by fuzz_$$m"; \
	  llvm-cov report $(FUZZ_COV_DIR)/replay_$$m -instr-profile=$(FUZZ_COV_DIR)/$$m.profdata \
	    $$(fuzz/run.sh sources $$m); \
	done

.DEFAULT_GOAL := $(fuzz_mk_goal_)
