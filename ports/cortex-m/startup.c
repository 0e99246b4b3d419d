/*
 * ports/cortex-m/startup.c - vector table, reset and fault handling, heap bounds for
 * tarn's bare-metal test images on a Cortex-M3/M4 (QEMU `-M mps2-an385` / `mps2-an386`),
 * also built as Cortex-M0+ (ARMv6-M) code for the M3 board.
 *
 * Reset_Handler   copies .data from flash to SRAM, makes the core strict where the host
 *                 is strict (integer division by zero traps, as SIGFPE does on the host),
 *                 enables the separate MemManage/BusFault/UsageFault handlers, arms an MPU
 *                 guard region at the bottom of the stack (so a stack overflow faults
 *                 instead of silently corrupting the heap), then jumps to newlib's
 *                 rdimon `_start`, which zeroes .bss, opens the semihosting console, runs
 *                 the constructors and calls exit(main()).  Its stack hook _stack_init
 *                 (below) keeps SP at `__stack`.
 * faults          every exception but reset lands in fault_entry, which switches to a
 *                 private stack, prints the fault registers and the stacked PC/LR over
 *                 semihosting and ends the program with exit status 139 (128 + SIGSEGV)
 *                 or 136 (128 + SIGFPE, division by zero) -- what a shell reports for
 *                 the same crash on the host.
 * _sbrk           newlib's malloc grows into [end, __stack_limit) and fails with ENOMEM
 *                 there, whatever bounds the semihosting host reports.
 * usage_report    at exit, prints the stack high-water mark (the stack is painted at
 *                 reset) and the heap used, for test.sh.
 *
 * Define TARN_PORT_UNALIGN_TRAP=1 to also trap every unaligned load/store (stricter than
 * the reset default of the core, which only faults on unaligned LDRD/STRD/LDM/STM).
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#ifndef TARN_PORT_UNALIGN_TRAP
#define TARN_PORT_UNALIGN_TRAP 0
#endif

/* ---- symbols from the linker script and newlib ------------------------------------- */
extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern char end[], __stack[], __stack_limit[];
extern void _start(void) __attribute__((noreturn));

void Reset_Handler(void) __attribute__((noreturn));
void fault_entry(void) __attribute__((naked, noreturn));
void fault_report(const uint32_t *frame, uint32_t exc_return) __attribute__((noreturn, used));
void *_sbrk(ptrdiff_t incr);

static char *brk; /* current heap end for _sbrk; NULL until the first call */

/* ---- System Control Block and MPU registers (ARMv7-M) ------------------------------ */
#define REG32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define SCB_ICSR REG32(0xE000ED04u)
#define SCB_CPACR REG32(0xE000ED88u)
#define SCB_CCR REG32(0xE000ED14u)
#define SCB_SHCSR REG32(0xE000ED24u)
#define SCB_CFSR REG32(0xE000ED28u)
#define SCB_HFSR REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR REG32(0xE000ED38u)
#define MPU_TYPE REG32(0xE000ED90u)
#define MPU_CTRL REG32(0xE000ED94u)
#define MPU_RNR REG32(0xE000ED98u)
#define MPU_RBAR REG32(0xE000ED9Cu)
#define MPU_RASR REG32(0xE000EDA0u)

#define CCR_UNALIGN_TRP (1u << 3)
#define CCR_DIV_0_TRP (1u << 4)
#define SHCSR_FAULTS_ENA ((1u << 16) | (1u << 17) | (1u << 18)) /* Mem, Bus, Usage */
#define CFSR_DIVBYZERO (1u << 25)
#define CFSR_MSTKERR (1u << 4)
#define CFSR_MMARVALID (1u << 7)
#define CFSR_BFARVALID (1u << 15)

/** Bytes at the bottom of the stack reservation that no code may touch (MPU region). */
#define STACK_GUARD_BYTES 256u
/** Fill of never-used stack words. */
#define STACK_PAINT 0x5AC3A55Cu

/* ---- vector table: initial SP, reset, 14 system exceptions, 32 AN385 interrupts ---- */
typedef void (*vector_fn)(void);
#define F fault_entry
__attribute__((section(".vectors"), used)) static const vector_fn vectors[16 + 32] = {
    (vector_fn)(uintptr_t)__stack, Reset_Handler, F, F, F, F, F, 0, 0, 0, 0, F, F, 0, F, F,
    F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F,
    F, F, F, F, F, F, F, F, F, F, F, F, F, F, F, F,
};
#undef F

/* ---- reset --------------------------------------------------------------------------- */
static void stack_guard_init(void)
{
    uintptr_t base = (uintptr_t)__stack_limit;
    if (((MPU_TYPE >> 8) & 0xFFu) == 0u) return; /* no MPU: run unguarded */
    /* region 0: [__stack_limit, +256) no access; size field = log2(256) - 1 = 7 */
    MPU_RNR = 0u;
    MPU_RBAR = (uint32_t)base;
    MPU_RASR = (1u << 28) /* XN */ | (0u << 24) /* AP: no access */ | (7u << 1) | 1u;
    MPU_CTRL = (1u << 2) /* PRIVDEFENA: default map elsewhere */ | 1u;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
}

void Reset_Handler(void)
{
    uint32_t *dst = __data_start__;
    const uint32_t *src = __data_load__;
    uint32_t *sp;
    while (dst < __data_end__) *dst++ = *src++;
    /* paint the unused stack so that the exit report can measure the high-water mark */
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (dst = (uint32_t *)(void *)(__stack_limit + STACK_GUARD_BYTES); dst < sp - 16; dst++) {
        *dst = STACK_PAINT;
    }

#if defined(__ARM_FP)
    SCB_CPACR |= 0xFu << 20; /* CP10/CP11 full access: hard-float code may run */
#endif
    SCB_CCR |= CCR_DIV_0_TRP | (TARN_PORT_UNALIGN_TRAP ? CCR_UNALIGN_TRP : 0u);
    SCB_SHCSR |= SHCSR_FAULTS_ENA;
    stack_guard_init();
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    _start();
}

/*
 * newlib's _start takes its stack pointer from the semihosting host (SYS_HEAPINFO), and
 * QEMU answers with the top of a RAM bank outside this board's 4 MiB SRAM.  _start then
 * calls the weak hook _stack_init with nothing on the stack yet: put SP back at the top
 * of the reservation the linker script made (guarded by the MPU region).  r0-r3 are free.
 */
void _stack_init(void) __attribute__((naked));
void _stack_init(void)
{
    __asm__ volatile("ldr r0, =__stack\n\t"
                     "mov sp, r0\n\t"
                     "bx  lr\n\t"
                     ".ltorg");
}

/* ---- semihosting, usable from handler mode ------------------------------------------ */
static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

static void put_str(const char *s) { (void)semihost(0x04u /* SYS_WRITE0 */, s); }

static void put_dec(const char *label, uint32_t v)
{
    char buf[48];
    char dig[12];
    size_t i = 0, k = 0;
    while (label[i] != '\0' && i < 32u) { buf[i] = label[i]; i++; }
    do {
        dig[k++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (k > 0u) buf[i++] = dig[--k];
    buf[i] = '\0';
    put_str(buf);
}

static void put_hex(const char *label, uint32_t v)
{
    char buf[48];
    size_t i = 0, k;
    while (label[i] != '\0' && i < 36u) { buf[i] = label[i]; i++; }
    buf[i++] = '0';
    buf[i++] = 'x';
    for (k = 0; k < 8u; k++) buf[i++] = "0123456789abcdef"[(v >> (28u - 4u * k)) & 0xFu];
    buf[i] = '\0';
    put_str(buf);
}

static void __attribute__((noreturn)) exit_status(uint32_t code)
{
    /* SYS_EXIT_EXTENDED: {reason ADP_Stopped_ApplicationExit, exit code} */
    static uint32_t block[2];
    block[0] = 0x20026u;
    block[1] = code;
    (void)semihost(0x20u, block);
    (void)semihost(0x18u /* SYS_EXIT */, (const void *)(uintptr_t)0x20023u /* RunTimeError */);
    for (;;) {
    }
}

/*
 * At exit (newlib runs the destructors from exit()): how much stack and heap the program
 * used, one line on the console for test.sh to pick up.
 */
static void usage_report(void) __attribute__((destructor, used));
static void usage_report(void)
{
    const uint32_t *w = (const uint32_t *)(const void *)(__stack_limit + STACK_GUARD_BYTES);
    const uint32_t *top = (const uint32_t *)(const void *)__stack;
    while (w < top && *w == STACK_PAINT) w++;
    put_dec("cortex-m: stack high-water ", (uint32_t)((const char *)top - (const char *)w));
    put_dec(" of ", (uint32_t)(__stack - __stack_limit - STACK_GUARD_BYTES));
    put_dec(" bytes, heap ", brk == NULL ? 0u : (uint32_t)(brk - end));
    put_str(" bytes\n");
}

/* ---- faults ------------------------------------------------------------------------- */
/* A private stack: a stack overflow into the guard must not fault again in the handler. */
static uint64_t fault_stack[128];

void fault_entry(void)
{
#if defined(__ARM_ARCH_6M__)
    /* ARMv6-M (Cortex-M0/M0+ code): no IT blocks, no TST with an immediate, and a B
     * reaches only 2 KiB */
    __asm__ volatile(
        "mov   r1, lr\n\t"
        "movs  r0, #4\n\t"
        "tst   r1, r0\n\t"
        "bne   1f\n\t"
        "mrs   r0, msp\n\t"
        "b     2f\n\t"
        "1:\n\t"
        "mrs   r0, psp\n\t"
        "2:\n\t"
        "ldr   r2, =%c0\n\t"
        "mov   sp, r2\n\t"
        "ldr   r3, =fault_report\n\t"
        "bx    r3\n\t"
        ".ltorg\n\t" ::"i"(&fault_stack[128]));
#else
    __asm__ volatile(
        "mov   r1, lr\n\t"
        "tst   lr, #4\n\t"
        "ite   eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "ldr   r2, =%c0\n\t"
        "mov   sp, r2\n\t"
        "b     fault_report\n\t"
        ".ltorg\n\t" ::"i"(&fault_stack[128]));
#endif
}

void fault_report(const uint32_t *frame, uint32_t exc_return)
{
    static const char *const names[16] = {"?",          "reset",   "NMI",     "HardFault",
                                          "MemManage",  "BusFault", "UsageFault", "?",
                                          "?",          "?",        "?",       "SVCall",
                                          "DebugMon",   "?",        "PendSV",  "SysTick"};
    uint32_t exc = SCB_ICSR & 0x1FFu;
    uint32_t cfsr = SCB_CFSR;
    uintptr_t f = (uintptr_t)frame;
    int frame_ok = !(cfsr & CFSR_MSTKERR) && f >= (uintptr_t)__stack_limit + STACK_GUARD_BYTES &&
                   f + 32u <= (uintptr_t)__stack;

    put_str("\n*** cortex-m: ");
    put_str(exc < 16u ? names[exc] : "interrupt");
    put_hex(" exception ", exc);
    put_hex(" CFSR=", cfsr);
    put_hex(" HFSR=", SCB_HFSR);
    if (cfsr & CFSR_MMARVALID) put_hex(" MMFAR=", SCB_MMFAR);
    if (cfsr & CFSR_BFARVALID) put_hex(" BFAR=", SCB_BFAR);
    put_hex(" SP=", (uint32_t)f);
    put_hex(" EXC_RETURN=", exc_return);
    if (frame_ok) {
        put_hex("\n*** cortex-m: PC=", frame[6]);
        put_hex(" LR=", frame[5]);
    }
    if ((cfsr & CFSR_MSTKERR) || ((cfsr & CFSR_MMARVALID) &&
                                  SCB_MMFAR >= (uint32_t)(uintptr_t)__stack_limit &&
                                  SCB_MMFAR < (uint32_t)(uintptr_t)__stack_limit + STACK_GUARD_BYTES)) {
        put_str("\n*** cortex-m: stack overflow (hit the guard below the stack)");
    }
    if (cfsr & (1u << 24)) put_str("\n*** cortex-m: unaligned access");
    if (cfsr & CFSR_DIVBYZERO) put_str("\n*** cortex-m: integer division by zero");
    put_str("\n");
    exit_status((cfsr & CFSR_DIVBYZERO) ? 136u : 139u);
}

/* ---- heap for newlib ---------------------------------------------------------------- */

void *_sbrk(ptrdiff_t incr)
{
    char *prev;
    if (brk == NULL) brk = end;
    if (incr < 0 ? (size_t)-incr > (size_t)(brk - end)
                 : (size_t)incr > (size_t)(__stack_limit - brk)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    prev = brk;
    brk += incr;
    return prev;
}
