/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_ACPI_PM1_H
#define KTSTR_ACPI_PM1_H

#include <stdatomic.h>
#include <stdint.h>
#include "pio.h"

/*
 * The ACPI fixed-hardware PM1a event and control registers (FADT PM1a_EVT_BLK and
 * PM1a_CNT_BLK), which is how Linux powers off: it evaluates \_S5 from the DSDT and writes
 * SLP_TYP | SLP_EN to PM1a_CNT; S5 ends the VM. SCI_EN always reads 1 (there is no SMI
 * command port: the platform is in ACPI mode from the start) and no event ever fires.
 *
 *   0x600  PM1a_STS (2 bytes, write 1 to clear)   0x602  PM1a_EN (2 bytes)
 *   0x604  PM1a_CNT (2 bytes): bit 0 SCI_EN, bits 10-12 SLP_TYP, bit 13 SLP_EN
 */
#define KTSTR_ACPI_PM1_EVT_PORT 0x600
#define KTSTR_ACPI_PM1_EVT_LEN 4
#define KTSTR_ACPI_PM1_CNT_PORT 0x604
#define KTSTR_ACPI_PM1_CNT_LEN 2
#define KTSTR_ACPI_PM1_PORTS (KTSTR_ACPI_PM1_EVT_LEN + KTSTR_ACPI_PM1_CNT_LEN)
#define KTSTR_ACPI_S5_SLP_TYP 5 /* the value the DSDT's \_S5 package gives */

struct acpi_pm1 {
	atomic_uchar enable[2]; /* PM1a_EN, kept so the guest reads back what it wrote */
};

/* The pio handler for the six bytes from KTSTR_ACPI_PM1_EVT_PORT; dev is a struct acpi_pm1. */
enum pio_result acpi_pm1_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data);

#endif
