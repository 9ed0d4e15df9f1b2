/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_SERIAL8250_H
#define KTSTR_SERIAL8250_H

#include <pthread.h>
#include <stdint.h>

#define KTSTR_MAX_VCPUS 512
#define KTSTR_LINE_MAX 512

/* An output-only 16550: THR writes are collected per vCPU and written out a whole line at a
 * time, so concurrent vCPUs never interleave inside a line; LSR always reads "ready". */
struct serial8250 {
	uint16_t base;
	int out_fd;
	pthread_mutex_t lock;
	char line[KTSTR_MAX_VCPUS][KTSTR_LINE_MAX];
	uint32_t len[KTSTR_MAX_VCPUS];
};

void serial8250_init(struct serial8250 *s, uint16_t base, int out_fd);
/* Returns 1 when the port belongs to this UART (and was handled). */
int serial8250_io(struct serial8250 *s, uint32_t vcpu, uint16_t port, int is_write, uint8_t *data);
void serial8250_flush(struct serial8250 *s, uint32_t vcpu);

#endif
