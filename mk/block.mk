# mk/block.mk - block pool extras:
#   make bench-block-size  Cortex-M4 and Cortex-M0+ -Os image growth (-ffunction-sections
#                          -fdata-sections, --gc-sections) of a program that inits one pool
#                          and does one get and one put, over one that does not: tarn's block
#                          pool, its lock-free pool, and the two reference lists of
#                          bench/ref_block.h (Mynewt- and Zephyr-style); with the part that is
#                          libgcc/libc helpers (division, memset, memcpy); then, for 32-bit
#                          Cortex-M, each pool's control structure and buffer bytes per block
#                          for 4096 blocks of 12 bytes (sizeof and the sizing macros, read
#                          from the compiler's output).  BLOCK_SIZE_FLAGS adds compile
#                          options (e.g. -DTARN_CHECK_LEVEL=0).

block_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: bench-block-size

BLOCK_SIZE_FLAGS ?=
block_size_dir_  := $(BUILD)/blocksize
block_size_m4_   := arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
block_size_m0_   := arm-none-eabi-gcc -mcpu=cortex-m0plus -mthumb
block_size_opt_  := -Os -ffunction-sections -fdata-sections -Iinclude -Isrc -Ibench $(BLOCK_SIZE_FLAGS)

# The test programs: $(1) = name, then the lines of main's body.
block_size_prog_ = printf '%s\n' '\#include "tarn/block.h"' '\#include "tarn/lfblock.h"' \
	'\#include "ref_block.h"' 'volatile int sink;' 'static unsigned char mem[1024] __attribute__((aligned(8)));' \
	$(2) > $(block_size_dir_)/$(1).c

# $(call block_growth_,CPU,NAME,LABEL): text growth of NAME over `without`, and the helpers.
block_growth_ = w=$$(arm-none-eabi-size $(block_size_dir_)/$(1)-$(2).elf | awk 'NR==2{print $$1}'); \
	o=$$(arm-none-eabi-size $(block_size_dir_)/$(1)-without.elf | awk 'NR==2{print $$1}'); \
	lib=$$(arm-none-eabi-nm -S -t d $(block_size_dir_)/$(1)-without.elf | awk '{print $$4}' | \
	  sort -u > $(block_size_dir_)/$(1)-without.syms; \
	  arm-none-eabi-nm -S -t d --size-sort $(block_size_dir_)/$(1)-$(2).elf | \
	  awk -v f=$(block_size_dir_)/$(1)-without.syms 'BEGIN{while ((getline l < f) > 0) had[l]=1} \
	    !had[$$4] && $$4 ~ /^(memset|memcpy|memmove|__aeabi_.*|__.*div.*|__.*di3|__.*si3|__c[lt]z.i2|__popcount.i2)$$/{s+=$$2; n=n" "$$4} \
	    END{printf "%d%s", s, (n=="" ? "" : " =" n)}'); \
	printf '%-44s %-3s %5d bytes (libgcc/libc helpers added: %s)\n' "$(3)" $(1) $$((w - o)) "$$lib"

block_size_build_ = for cpu in m4 m0; do \
	  if [ $$cpu = m4 ]; then cc="$(block_size_m4_)"; else cc="$(block_size_m0_)"; fi; \
	  $$cc $(block_size_opt_) -std=c99 -c src/block.c -o $(block_size_dir_)/$$cpu-block.o || exit 1; \
	  $$cc $(block_size_opt_) -std=c11 -c src/lfblock.c -o $(block_size_dir_)/$$cpu-lfblock.o || exit 1; \
	  for p in without block lfblock mynewt zephyr; do \
	    $$cc $(block_size_opt_) -std=c11 --specs=nosys.specs -Wl,--gc-sections \
	      $(block_size_dir_)/$$p.c $(block_size_dir_)/$$cpu-block.o $(block_size_dir_)/$$cpu-lfblock.o \
	      -o $(block_size_dir_)/$$cpu-$$p.elf || exit 1; \
	  done; \
	done

bench-block-size:
	@mkdir -p $(block_size_dir_)
	@$(call block_size_prog_,without,'int main(void)' '{' '    sink = mem[sink];' '    return 0;' '}')
	@$(call block_size_prog_,block,'static tarn_block_pool pool;' 'int main(void)' '{' \
	  '    void *p;' '    if (tarn_block_init(&pool, mem, sizeof mem, 12, NULL) != TARN_OK) return 1;' \
	  '    p = tarn_block_get(&pool);' '    sink = tarn_block_put(&pool, p);' '    return 0;' '}')
	@$(call block_size_prog_,lfblock,'static tarn_lfblock_pool pool;' 'int main(void)' '{' \
	  '    void *p;' '    if (tarn_lfblock_init(&pool, mem, sizeof mem, 12, NULL) != TARN_OK) return 1;' \
	  '    p = tarn_lfblock_get(&pool);' '    sink = tarn_lfblock_put(&pool, p);' '    return 0;' '}')
	@$(call block_size_prog_,mynewt,'static ref_mynewt_pool pool;' 'int main(void)' '{' \
	  '    void *p;' '    if (ref_mynewt_init(&pool, 64, 12, mem) != 0) return 1;' \
	  '    p = ref_mynewt_get(&pool);' '    sink = ref_mynewt_put(&pool, p);' '    return 0;' '}')
	@$(call block_size_prog_,zephyr,'static ref_zephyr_slab slab;' 'int main(void)' '{' \
	  '    void *p;' '    if (ref_zephyr_init(&slab, mem, 12, 64) != 0) return 1;' \
	  '    p = ref_zephyr_alloc(&slab);' '    ref_zephyr_free(&slab, p);' '    sink = 1;' '    return 0;' '}')
	@$(block_size_build_)
	@printf '%s\n' '#include "tarn/block.h"' '#include "tarn/lfblock.h"' '#include "ref_block.h"' \
	  'const unsigned long tarn_mem_figures[] = {' \
	  '    sizeof(tarn_block_pool), TARN_BLOCK_POOL_BYTES(4096, 12),' \
	  '    sizeof(tarn_lfblock_pool), TARN_LFBLOCK_POOL_BYTES(4096, 12),' \
	  '    sizeof(ref_mynewt_pool), 4096u * ((12u + 3u) & ~3u),' \
	  '    sizeof(ref_zephyr_slab), 4096u * 12u};' > $(block_size_dir_)/memfig.c
	@$(block_size_m4_) $(block_size_opt_) -std=c11 -S $(block_size_dir_)/memfig.c -o - | \
	  awk '$$1 == ".word" { v[n++] = $$2 } END { \
	    print "memory, 32-bit Cortex-M, 4096 blocks of 12 bytes: control structure / buffer bytes per block"; \
	    split("tarn block pool [target <= 40 B / 12 B]|tarn lfblock [target <= 40 B / 12 B]|reference: Mynewt-style list|reference: Zephyr-style slab", name, "|"); \
	    for (i = 0; i < 4; i++) printf "%-44s %4d B / %6.3f B\n", name[i + 1], v[2 * i], v[2 * i + 1] / 4096 }'
	@echo "image growth, -Os --gc-sections, init + one get + one put (12-byte blocks):"
	@for cpu in m4 m0; do \
	  $(call block_growth_,$$cpu,block,tarn block pool [target M4 <= 350 / M0+ <= 400]); \
	  $(call block_growth_,$$cpu,lfblock,tarn lfblock [target M4 <= 500 / M0+ <= 600]); \
	  $(call block_growth_,$$cpu,mynewt,reference: Mynewt-style list (ref_block.h)); \
	  $(call block_growth_,$$cpu,zephyr,reference: Zephyr-style slab (ref_block.h)); \
	done

.DEFAULT_GOAL := $(block_mk_goal_)
