# mk/qemu.mk - `make test-qemu`: tarn's portable tests (every tests/test_*.c without the
# host-only marker) built bare-metal for Cortex-M0+ and M4 (QEMU mps2-an385/an386, newlib
# semihosting) and run under QEMU, one image per test; see ports/cortex-m/README.md.
#   QEMU_CPUS   cores to run on: "m0 m4" (default; m0 = Cortex-M0+ code (ARMv6-M) on the
#               Cortex-M3 of mps2-an385, unaligned accesses trapping; m4 = Cortex-M4F on
#               mps2-an386; m3 = Cortex-M3 code on mps2-an385)
#   QEMU_SCALE  TARN_TEST_SCALE of the images (default 10)
#   QEMU_TIMEOUT seconds per test (default 120)
# Fails, naming the package, when qemu-system-arm or arm-none-eabi-gcc is not installed
# (tools/deps.txt lists both; `make test` installs them first).

QEMU_CPUS    ?= m0 m4
QEMU_SCALE   ?= 10
QEMU_TIMEOUT ?= 120

# Defining a rule here must not change the Makefile's default goal.
qemu_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: test-qemu
test-qemu:
	@if ! command -v qemu-system-arm >/dev/null 2>&1; then \
	  echo "test-qemu: FAILED: qemu-system-arm is not on PATH (Debian: qemu-system-arm)" >&2; exit 1; \
	elif ! command -v arm-none-eabi-gcc >/dev/null 2>&1; then \
	  echo "test-qemu: FAILED: arm-none-eabi-gcc is not on PATH (Debian: gcc-arm-none-eabi libnewlib-arm-none-eabi)" >&2; exit 1; \
	else \
	  ports/cortex-m/test.sh -b $(BUILD)/qemu -j $(JOBS) -c "$(QEMU_CPUS)" -s $(QEMU_SCALE) -t $(QEMU_TIMEOUT); \
	fi

.DEFAULT_GOAL := $(qemu_mk_goal_)

TEST_EXTRA += test-qemu
