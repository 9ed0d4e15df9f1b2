/* SPDX-License-Identifier: GPL-2.0 */
#include "acpi_sleep.h"

#define SLP_EN 0x20
#define SLP_TYP_SHIFT 2
#define SLP_TYP_MASK 0x1c

enum acpi_sleep_result acpi_sleep_io(uint16_t port, int is_write, uint8_t *data)
{
	if (port != KTSTR_ACPI_SLEEP_CONTROL_PORT && port != KTSTR_ACPI_SLEEP_STATUS_PORT)
		return ACPI_SLEEP_NOT_MINE;
	if (!is_write) {
		*data = 0; /* no wake events */
		return ACPI_SLEEP_HANDLED;
	}
	if (port == KTSTR_ACPI_SLEEP_CONTROL_PORT && (*data & SLP_EN) &&
	    ((*data & SLP_TYP_MASK) >> SLP_TYP_SHIFT) == KTSTR_ACPI_S5_SLP_TYP)
		return ACPI_SLEEP_POWER_OFF;
	return ACPI_SLEEP_HANDLED; /* other sleep states: nothing to do */
}
