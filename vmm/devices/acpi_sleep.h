/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_ACPI_SLEEP_H
#define KTSTR_ACPI_SLEEP_H

#include <stdint.h>

/*
 * The hardware-reduced ACPI sleep registers (FADT SLEEP_CONTROL_REG / SLEEP_STATUS_REG, one
 * byte each in I/O space): how Linux powers off. It evaluates \_S5 from the DSDT and writes
 * SLP_TYP << 2 | SLP_EN to the control register; that ends the VM.
 */
#define KTSTR_ACPI_SLEEP_CONTROL_PORT 0x600
#define KTSTR_ACPI_SLEEP_STATUS_PORT 0x601
#define KTSTR_ACPI_S5_SLP_TYP 5 /* the value the DSDT's \_S5 package gives */

enum acpi_sleep_result { ACPI_SLEEP_NOT_MINE, ACPI_SLEEP_HANDLED, ACPI_SLEEP_POWER_OFF };

enum acpi_sleep_result acpi_sleep_io(uint16_t port, int is_write, uint8_t *data);

#endif
