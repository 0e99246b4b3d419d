/*
 * examples/smm/spi_fram.h - an emulated SPI FRAM chip (16 Mbit, 2 MiB, 3-byte addresses,
 * the usual FRAM command set) behind a chip-select line and a byte-wide SPI transfer, as
 * a microcontroller sees it.  Its cells are an emulated device (tests/support/emudev), so
 * that power can be cut after any programmed byte, as happens to a real FRAM when the
 * supply drops in the middle of a WRITE command.
 */
#ifndef SPI_FRAM_H
#define SPI_FRAM_H

#include <stdbool.h>
#include <stdint.h>
#include "support/emudev.h"

#define FRAM_SIZE (2u * 1024u * 1024u)

#define FRAM_WREN 0x06u   /* set the write-enable latch */
#define FRAM_WRDI 0x04u   /* clear it */
#define FRAM_RDSR 0x05u   /* read the status register (bit 1: write enable latch) */
#define FRAM_READ 0x03u   /* READ a2 a1 a0, then data out */
#define FRAM_WRITE 0x02u  /* WRITE a2 a1 a0, then data in; needs WREN first */

/** The chip's cells: an emulated device of FRAM_SIZE bytes at address 0; each programmed
 *  byte is one emudev write, so emudev_cut_after(&fram_cells, n, 0, 0) cuts the power
 *  after n more programmed bytes. */
extern emudev fram_cells;

/** SPI bus statistics: commands (chip-select cycles) and bytes clocked. */
extern unsigned long fram_commands, fram_bytes;

void fram_power_up(void);          /* power on (after a cut): cells keep what landed */
void fram_select(bool active);     /* chip select: true = asserted (low) */
uint8_t spi_transfer(uint8_t out); /* clock one byte out and one in */

#endif
