# mk/ports.mk - `make test-ports`: the ports' bare-metal checks (part of `make test`).
#   - ports/libc on Cortex-M3 (QEMU mps2-an385, newlib): tests/port_libc_qemu.c, whose
#     plain malloc/free/realloc and newlib's own allocations must be served by tarn; the
#     image must not contain newlib's malloc at all;
#   - ports/freertos/heap_tarn.c on Cortex-M3: tests/port_freertos_*.c (stand-in kernel
#     headers of tests/freertos/).
# The host tests of the ports, and the examples that need packages or C++, are CTest
# cases (ports/ports.cmake).  Fails without qemu-system-arm or arm-none-eabi-gcc
# (tools/deps.txt lists them).

ports_mk_goal_ := $(.DEFAULT_GOAL)

PORTS_OUT  = $(BUILD)/ports-qemu
PORTS_CC   = arm-none-eabi-gcc -mcpu=cortex-m3 -mthumb
PORTS_CFLAGS = -std=gnu11 -O2 -g -ffunction-sections -fdata-sections \
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Werror \
  -Iinclude -Isrc -Itests -Iports/libc -Itests/freertos -DTARN_TEST_SCALE=10
PORTS_LDFLAGS = --specs=rdimon.specs -T ports/cortex-m/mps2-an385.ld -Wl,--gc-sections
PORTS_LIB  = src/heap.c src/tarn.c
PORTS_RUN  = timeout -k 5 120 qemu-system-arm -M mps2-an385 -nographic -monitor none \
  -serial null -semihosting-config enable=on,target=native -kernel

.PHONY: test-ports
test-ports:
	@if ! command -v qemu-system-arm >/dev/null 2>&1 || ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then \
	  echo "test-ports: FAILED: needs qemu-system-arm and arm-none-eabi-gcc (tools/deps.sh installs them)"; exit 1; fi; \
	set -e; mkdir -p $(PORTS_OUT); \
	$(PORTS_CC) $(PORTS_CFLAGS) $(PORTS_LIB) ports/libc/tarn_malloc.c tests/port_libc_qemu.c \
	  ports/cortex-m/startup.c $(PORTS_LDFLAGS) -o $(PORTS_OUT)/port_libc_qemu.elf; \
	if arm-none-eabi-nm $(PORTS_OUT)/port_libc_qemu.elf | grep -q -w -e __malloc_av_ -e _malloc_trim_r; then \
	  echo "test-ports: newlib's own malloc is linked into port_libc_qemu.elf"; exit 1; fi; \
	for t in port_freertos_heap port_freertos_regions port_freertos_app; do \
	  $(PORTS_CC) $(PORTS_CFLAGS) $(PORTS_LIB) tests/$$t.c ports/cortex-m/startup.c \
	    $(PORTS_LDFLAGS) -o $(PORTS_OUT)/$$t.elf; done; \
	for t in port_libc_qemu port_freertos_heap port_freertos_regions port_freertos_app; do \
	  if $(PORTS_RUN) $(PORTS_OUT)/$$t.elf >$(PORTS_OUT)/$$t.log 2>&1 </dev/null; then \
	    echo "test-ports: [m3 mps2-an385] $$t passed: $$(grep -v '^cortex-m:' $(PORTS_OUT)/$$t.log | tr '\n' ' ')"; \
	  else echo "test-ports: [m3 mps2-an385] $$t FAILED:"; cat $(PORTS_OUT)/$$t.log; exit 1; fi; \
	done

.DEFAULT_GOAL := $(ports_mk_goal_)

TEST_EXTRA += test-ports
