/* examples/smm/spi_fram.c - the emulated SPI FRAM (see spi_fram.h). */
#include "spi_fram.h"

static uint8_t cells[FRAM_SIZE];
emudev fram_cells;
unsigned long fram_commands, fram_bytes;

static enum { IDLE, OPCODE, ADDR, DATA_IN, DATA_OUT, STATUS } state = IDLE;
static bool wel;            /* write enable latch */
static bool writing;        /* the current command is WRITE */
static unsigned addr_bytes;
static uint32_t addr;
static bool powered;

void fram_power_up(void)
{
    if (fram_cells.mem == NULL) emudev_init(&fram_cells, cells, 0, FRAM_SIZE);
    emudev_power_on(&fram_cells);
    powered = true;
    wel = false;
    state = IDLE;
}

void fram_select(bool active)
{
    if (!powered) return;
    if (active) {
        state = OPCODE;
        fram_commands++;
    } else {
        if (writing) wel = false;   /* the latch clears at the end of a WRITE */
        writing = false;
        state = IDLE;
    }
}

uint8_t spi_transfer(uint8_t out)
{
    uint8_t in = 0xFFu;
    if (!powered || fram_cells.dead) {
        powered = false;            /* the supply is gone: nothing answers any more */
        return in;
    }
    fram_bytes++;
    switch (state) {
    case OPCODE:
        if (out == FRAM_WREN) wel = true;
        else if (out == FRAM_WRDI) wel = false;
        else if (out == FRAM_RDSR) state = STATUS;
        else if (out == FRAM_READ || out == FRAM_WRITE) {
            writing = out == FRAM_WRITE;
            addr_bytes = 0;
            addr = 0;
            state = ADDR;
        }
        if (state == OPCODE) state = IDLE;   /* one-byte commands */
        break;
    case ADDR:
        addr = (addr << 8) | out;
        if (++addr_bytes == 3) {
            addr &= FRAM_SIZE - 1u;
            state = writing ? DATA_IN : DATA_OUT;
        }
        break;
    case DATA_IN:
        if (wel) (void)emudev_write(&fram_cells, addr, &out, 1);   /* fails once powered off */
        addr = (addr + 1u) & (FRAM_SIZE - 1u);
        break;
    case DATA_OUT:
        (void)emudev_read(&fram_cells, addr, &in, 1);
        addr = (addr + 1u) & (FRAM_SIZE - 1u);
        break;
    case STATUS:
        in = wel ? 0x02u : 0x00u;
        break;
    default:
        break;
    }
    return in;
}
