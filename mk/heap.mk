# mk/heap.mk - heap extras (see bench/heap.c):
#   make bench-heap32     bench/heap built for a 32-bit host (-m32, Debian gcc-multilib) and
#                         run; BENCH_ARGS are passed (e.g. BENCH_ARGS=--quick), HEAP32_FLAGS
#                         added to the compile options (HEAP32_FLAGS=-DRT_ALIGN=8: the
#                         reference aligned to 8 bytes, as tarn is); it needs a kernel that
#                         runs i386 programs (callgrind cannot run under qemu-i386)
#   make bench-heap-size  Cortex-M4 -Os image growth (--gc-sections) of a program that uses
#                         tarn_heap_init, _alloc, _free and _realloc, over one that does not
#                         (HEAP_SIZE_FLAGS adds compile options, e.g. -DTARN_HEAP_FAST=0),
#                         and of the same program on the bench's TLSF-style reference

heap_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: bench-heap32 bench-heap-size

bench-heap32:
	$(CMAKE) -S . -B $(BUILD)/bench32 -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc \
	  -DTARN_BUILD_BENCH=ON "-DCMAKE_C_FLAGS=-m32 -DTARN_SANITIZE=0 $(HEAP32_FLAGS)" \
	  -DCMAKE_EXE_LINKER_FLAGS=-m32 >/dev/null
	$(CMAKE) --build $(BUILD)/bench32 -j$(JOBS) --target bench_heap
	@if [ -n "$$(tools/m32_wrapper.sh $(BUILD))" ]; then \
	  echo "bench-heap32: this kernel cannot run i386 programs (callgrind needs it)" >&2; exit 1; fi
	$(BUILD)/bench32/bench_heap $(BENCH_ARGS)

HEAP_SIZE_CC    ?= arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
HEAP_SIZE_FLAGS ?=
heap_size_dir_  := $(BUILD)/heapsize
heap_size_cc_    = $(HEAP_SIZE_CC) -Os -std=c99 -ffunction-sections -fdata-sections \
                   -Iinclude -Isrc $(HEAP_SIZE_FLAGS)

# $(call heap_growth_,NAME,LABEL_VAR): text growth of NAME.elf over without.elf, and the
# part of it that is newlib's memcpy and memset (those of them that without.elf does not
# link already: its start-up code uses memset), printed after the text in LABEL_VAR.
heap_size_tarn_ := heap .text growth, Cortex-M4 -Os --gc-sections, init+alloc+free+realloc:
heap_size_ref_  := the same for the TLSF-style reference (bench/ref_tlsf.h, no checks):
heap_growth_ = w=$$(arm-none-eabi-size $(heap_size_dir_)/$(1).elf | awk 'NR==2{print $$1}'); \
	 o=$$(arm-none-eabi-size $(heap_size_dir_)/without.elf | awk 'NR==2{print $$1}'); \
	 lib=$$($(call libc_added,$(heap_size_dir_)/without.elf,$(heap_size_dir_)/$(1).elf,memcpy|memset)); \
	 echo "$($(2))" "$$((w - o)) bytes (of which libc memcpy/memset: $$lib)$(if \
	   $(filter with,$(1)), [target <= 2000; <= 1300 at level 0 without stats])"

bench-heap-size:
	@mkdir -p $(heap_size_dir_)
	@printf '%s\n' '#include "tarn/heap.h"' 'static unsigned char mem[4096];' \
	  'volatile int sink;' 'int main(void)' '{' '    tarn_heap *h;' '    void *p;' \
	  '    if (tarn_heap_init(&h, mem, sizeof mem, 0) != TARN_OK) return 1;' \
	  '    p = tarn_heap_alloc(h, 100);' '    p = tarn_heap_realloc(h, p, 300);' \
	  '    sink = tarn_heap_free(h, p);' '    return 0;' '}' > $(heap_size_dir_)/with.c
	@printf '%s\n' 'static unsigned char mem[4096];' 'volatile int sink;' 'int main(void)' '{' \
	  '    sink = mem[sink];' '    return 0;' '}' > $(heap_size_dir_)/without.c
	@$(heap_size_cc_) -c src/heap.c -o $(heap_size_dir_)/heap.o
	@$(heap_size_cc_) --specs=nosys.specs -Wl,--gc-sections $(heap_size_dir_)/with.c \
	  $(heap_size_dir_)/heap.o -o $(heap_size_dir_)/with.elf
	@$(heap_size_cc_) --specs=nosys.specs -Wl,--gc-sections $(heap_size_dir_)/without.c \
	  -o $(heap_size_dir_)/without.elf
	@$(call heap_growth_,with,heap_size_tarn_)
	@printf '%s\n' '#include "ref_tlsf.h"' 'static unsigned char mem[4096];' 'volatile int sink;' \
	  'int main(void)' '{' '    rt_heap *h = rt_init(mem, sizeof mem);' '    void *p;' \
	  '    if (h == 0) return 1;' '    p = rt_alloc(h, 100);' '    p = rt_realloc(h, p, 300);' \
	  '    rt_free(h, p);' '    sink = 1;' '    return 0;' '}' > $(heap_size_dir_)/ref.c
	@$(heap_size_cc_) -Ibench --specs=nosys.specs -Wl,--gc-sections $(heap_size_dir_)/ref.c \
	  -o $(heap_size_dir_)/ref.elf
	@$(call heap_growth_,ref,heap_size_ref_)

.DEFAULT_GOAL := $(heap_mk_goal_)
