/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_SERIAL8250_H
#define KTSTR_SERIAL8250_H

#include <pthread.h>
#include <stdint.h>
#include "pio.h"

#define KTSTR_LINE_MAX 512

/*
 * A 16550A UART, output only (nothing is ever received): enough of the register set for
 * Linux's 8250 driver to find it (scratch, loopback MSR, FIFO IIR bits) and to drive it by
 * THRE interrupts, which are raised on an ISA IRQ line through set_irq.
 *
 * Output is written to out_fd a whole line at a time. With per_vcpu_lines each vCPU has its
 * own line buffer, so synthetic guests printing from every vCPU at once never interleave
 * inside a line; otherwise one buffer (Linux serialises its console itself).
 */
struct serial8250 {
	uint16_t base;
	uint32_t irq;
	int out_fd;
	void (*set_irq)(void *ctx, uint32_t irq, int level);
	void *irq_ctx;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	int thri_pending, irq_level;
	uint32_t nr_buffers;
	char (*line)[KTSTR_LINE_MAX];
	uint32_t *len;
};

/* Returns 0, or -1 when the line buffers could not be allocated. */
int serial8250_init(struct serial8250 *s, uint16_t base, uint32_t irq, int out_fd,
		    uint32_t nr_buffers);
void serial8250_destroy(struct serial8250 *s);
#define KTSTR_SERIAL8250_PORTS 8

/* The pio handler (offset: register 0-7); dev is a struct serial8250. */
enum pio_result serial8250_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write,
			      uint8_t *data);
void serial8250_flush(struct serial8250 *s, uint32_t vcpu);
void serial8250_flush_all(struct serial8250 *s);

#endif
