# mk/rv32.mk - `make test-qemu-rv32`: the lock-free pool's portable tests bare-metal on
# RV32IMAC (LR.W/SC.W) under qemu-system-riscv32 -M virt, picolibc semihosting
# (tests/rv32/run.sh).  Needs the Debian packages qemu-system-misc and
# picolibc-riscv64-unknown-elf besides gcc-riscv64-unknown-elf; not part of `make test`.

rv32_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: test-qemu-rv32
test-qemu-rv32:
	tests/rv32/run.sh $(BUILD)/rv32

.DEFAULT_GOAL := $(rv32_mk_goal_)
