/* SPDX-License-Identifier: GPL-2.0 */
#include "acpi_pm1.h"

#define EN 2                   /* PM1a_EN, after the two status bytes */
#define CNT 4                  /* PM1a_CNT */
#define CNT_SCI_EN 0x01        /* low byte */
#define CNT_HI_SLP_EN 0x20     /* high byte: bit 13 */
#define CNT_HI_SLP_TYP_SHIFT 2 /* high byte: bits 10-12 */
#define CNT_HI_SLP_TYP_MASK 0x1c

/* Wider accesses arrive a byte at a time, low byte first, so the sleep request is decided
 * by PM1a_CNT's high byte, which holds both SLP_TYP and SLP_EN. */
enum pio_result acpi_pm1_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write, uint8_t *data)
{
	struct acpi_pm1 *pm = dev;

	(void)vcpu;
	if (!is_write) {
		if (offset == EN || offset == EN + 1)
			*data = atomic_load(&pm->enable[offset - EN]);
		else
			*data = offset == CNT ? CNT_SCI_EN : 0; /* no status bits: no events */
		return PIO_HANDLED;
	}
	if (offset == EN || offset == EN + 1)
		atomic_store(&pm->enable[offset - EN], *data);
	if (offset == CNT + 1 && (*data & CNT_HI_SLP_EN) &&
	    ((*data & CNT_HI_SLP_TYP_MASK) >> CNT_HI_SLP_TYP_SHIFT) == KTSTR_ACPI_S5_SLP_TYP)
		return PIO_POWER_OFF;
	return PIO_HANDLED; /* status clears, SCI_EN, other sleep states: nothing to do */
}
