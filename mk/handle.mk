# mk/handle.mk - handle pool extras:
#   make bench-handle-size  Cortex-M4 -Os sizes of the handle pool: .text of src/handle.c
#                           compiled alone (-ffunction-sections), and the image growth
#                           (--gc-sections) of a program that uses tarn_handle_init, _alloc,
#                           _lock, _unlock, _free and _compact over one that does not
#                           (HANDLE_SIZE_FLAGS adds compile options, e.g. -DTARN_CHECK_LEVEL=0);
#                           fails when that program links code of a feature it does not use
#                           (scramble mode, compact_step, quarantine, check, stats, walk)

handle_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: bench-handle-size

HANDLE_SIZE_CC    ?= arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
HANDLE_SIZE_FLAGS ?=
handle_size_dir_  := $(BUILD)/handlesize
handle_size_cc_    = $(HANDLE_SIZE_CC) -Os -std=c99 -ffunction-sections -fdata-sections \
                     -Iinclude -Isrc $(HANDLE_SIZE_FLAGS)

# code of features the size program does not use (gc-sections must drop all of it)
handle_size_unused_ := tarn_handle_scramble_ hp_scramble_run hp_pack hp_transit_step \
                       hp_transit_end hp_transit_drop hp_step_call tarn_handle_quarantine_ \
                       hp_hold hp_q_release_oldest hp_q_flush hp_release hp_check hp_full_check \
                       tarn_handle_stats_get tarn_handle_walk tarn_handle_check

bench-handle-size:
	@mkdir -p $(handle_size_dir_)
	@printf '%s\n' '#include "tarn/handle.h"' \
	  'static unsigned char mem[TARN_HANDLE_BYTES(4096, 32)] TARN_HANDLE_ALIGNED;' \
	  'static tarn_handle_pool pool;' 'volatile int sink;' 'int main(void)' '{' \
	  '    tarn_handle h;' '    char *p;' \
	  '    if (tarn_handle_init(&pool, mem, sizeof mem, 32, 0) != TARN_OK) return 1;' \
	  '    h = tarn_handle_alloc(&pool, 100);' '    p = (char *)tarn_handle_lock(&pool, h);' \
	  '    if (p != 0) p[0] = 1;' '    sink = tarn_handle_unlock(&pool, h);' \
	  '    sink = (int)tarn_handle_compact(&pool);' '    sink = tarn_handle_free(&pool, h);' \
	  '    return 0;' '}' > $(handle_size_dir_)/with.c
	@printf '%s\n' 'static unsigned char mem[4096];' 'volatile int sink;' 'int main(void)' '{' \
	  '    sink = mem[sink];' '    return 0;' '}' > $(handle_size_dir_)/without.c
	@$(handle_size_cc_) -c src/handle.c -o $(handle_size_dir_)/handle.o
	@$(handle_size_cc_) -c src/tarn.c -o $(handle_size_dir_)/tarn.o
	@$(handle_size_cc_) --specs=nosys.specs -Wl,--gc-sections $(handle_size_dir_)/with.c \
	  $(handle_size_dir_)/handle.o $(handle_size_dir_)/tarn.o -o $(handle_size_dir_)/with.elf
	@$(handle_size_cc_) --specs=nosys.specs -Wl,--gc-sections $(handle_size_dir_)/without.c \
	  -o $(handle_size_dir_)/without.elf
	@echo "handle.c .text, Cortex-M4 -Os: $$(arm-none-eabi-size -A $(handle_size_dir_)/handle.o | \
	  awk '$$1 ~ /^\.text/ {s += $$2} END {print s}') bytes [target <= 3000]"
	@w=$$(arm-none-eabi-size $(handle_size_dir_)/with.elf | awk 'NR==2{print $$1}'); \
	 o=$$(arm-none-eabi-size $(handle_size_dir_)/without.elf | awk 'NR==2{print $$1}'); \
	 lib=$$($(call libc_added,$(handle_size_dir_)/without.elf,$(handle_size_dir_)/with.elf,memcpy|memset|memmove)); \
	 echo "handle image growth, Cortex-M4 -Os --gc-sections, init+alloc+lock+unlock+free+compact:" \
	   "$$((w - o)) bytes (of which libc memcpy/memmove/memset that the program without the pool does not link: $$lib) [target <= 2000]"
	@extra=$$(arm-none-eabi-nm $(handle_size_dir_)/with.elf | \
	   awk -v re='^($(subst $(space),|,$(strip $(handle_size_unused_))))([.].*)?$$' \
	   '$$3 ~ re {print $$3}' | tr '\n' ' '); \
	 if [ -n "$$extra" ]; then echo "unused features linked: $$extra"; exit 1; fi

.DEFAULT_GOAL := $(handle_mk_goal_)
