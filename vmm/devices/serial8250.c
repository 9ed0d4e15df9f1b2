/* SPDX-License-Identifier: GPL-2.0 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "serial8250.h"

/* Register offsets (DLAB = LCR bit 7 switches 0 and 1 to the divisor latch). */
#define RBR_THR 0
#define IER 1
#define IIR_FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

#define LCR_DLAB 0x80
#define IER_THRI 0x02
#define IIR_NO_INT 0x01
#define IIR_THRI 0x02
#define IIR_FIFOS 0xc0
#define FCR_ENABLE 0x01
#define MCR_DTR 0x01
#define MCR_RTS 0x02
#define MCR_OUT1 0x04
#define MCR_OUT2 0x08 /* gates the IRQ line on a PC */
#define MCR_LOOP 0x10
#define LSR_THRE_TEMT 0x60
#define MSR_CTS 0x10
#define MSR_DSR 0x20
#define MSR_RI 0x40
#define MSR_DCD 0x80

int serial8250_init(struct serial8250 *s, uint16_t base, uint32_t irq, int out_fd,
		    uint32_t nr_buffers)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->irq = irq;
	s->out_fd = out_fd;
	s->nr_buffers = nr_buffers ? nr_buffers : 1;
	pthread_mutex_init(&s->lock, NULL);
	s->line = calloc(s->nr_buffers, sizeof(*s->line));
	s->len = calloc(s->nr_buffers, sizeof(*s->len));
	return s->line && s->len ? 0 : -1;
}

void serial8250_destroy(struct serial8250 *s)
{
	free(s->line);
	free(s->len);
	s->line = NULL;
	s->len = NULL;
	pthread_mutex_destroy(&s->lock);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (fd >= 0 && len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

static void flush_locked(struct serial8250 *s, uint32_t b)
{
	write_all(s->out_fd, s->line[b], s->len[b]);
	s->len[b] = 0;
}

void serial8250_flush(struct serial8250 *s, uint32_t vcpu)
{
	if (!s->line)
		return;
	pthread_mutex_lock(&s->lock);
	flush_locked(s, vcpu % s->nr_buffers);
	pthread_mutex_unlock(&s->lock);
}

void serial8250_flush_all(struct serial8250 *s)
{
	for (uint32_t b = 0; s->line && b < s->nr_buffers; b++)
		serial8250_flush(s, b);
}

/* The IRQ line follows "THRE interrupt enabled and pending", gated by OUT2. Linux's ISA
 * IRQs are edge-triggered, so each new THRE after the driver's IIR read is a fresh edge. */
static void update_irq(struct serial8250 *s)
{
	int level = (s->mcr & MCR_OUT2) && (s->ier & IER_THRI) && s->thri_pending;

	if (level != s->irq_level && s->set_irq) {
		s->irq_level = level;
		s->set_irq(s->irq_ctx, s->irq, level);
	}
}

static uint8_t modem_status(const struct serial8250 *s)
{
	if (!(s->mcr & MCR_LOOP)) /* a terminal that is always there and ready */
		return MSR_DCD | MSR_DSR | MSR_CTS;
	/* Loopback: the modem outputs come back as inputs (Linux's probe checks this). */
	return (s->mcr & MCR_RTS ? MSR_CTS : 0) | (s->mcr & MCR_DTR ? MSR_DSR : 0) |
	       (s->mcr & MCR_OUT1 ? MSR_RI : 0) | (s->mcr & MCR_OUT2 ? MSR_DCD : 0);
}

static void transmit(struct serial8250 *s, uint32_t vcpu, uint8_t c)
{
	uint32_t b = vcpu % s->nr_buffers;

	if (s->mcr & MCR_LOOP)
		return; /* loopback sends nothing out */
	s->line[b][s->len[b]++] = (char)c;
	if (c == '\n' || s->len[b] == KTSTR_LINE_MAX)
		flush_locked(s, b);
}

static uint8_t read_reg(struct serial8250 *s, uint16_t reg)
{
	switch (reg) {
	case RBR_THR:
		return s->lcr & LCR_DLAB ? s->dll : 0;
	case IER:
		return s->lcr & LCR_DLAB ? s->dlm : s->ier;
	case IIR_FCR: {
		uint8_t fifo = s->fcr & FCR_ENABLE ? IIR_FIFOS : 0;

		if ((s->ier & IER_THRI) && s->thri_pending) {
			s->thri_pending = 0; /* reading IIR acknowledges THRE */
			return fifo | IIR_THRI;
		}
		return fifo | IIR_NO_INT;
	}
	case LCR:
		return s->lcr;
	case MCR:
		return s->mcr;
	case LSR:
		return LSR_THRE_TEMT; /* transmission is instant; nothing received */
	case MSR:
		return modem_status(s);
	default:
		return s->scr;
	}
}

static void write_reg(struct serial8250 *s, uint32_t vcpu, uint16_t reg, uint8_t v)
{
	switch (reg) {
	case RBR_THR:
		if (s->lcr & LCR_DLAB) {
			s->dll = v;
		} else {
			transmit(s, vcpu, v);
			s->thri_pending = 1; /* the holding register is empty again at once */
		}
		break;
	case IER:
		if (s->lcr & LCR_DLAB) {
			s->dlm = v;
		} else {
			if ((v & IER_THRI) && !(s->ier & IER_THRI))
				s->thri_pending = 1; /* enabling THRI with THR empty interrupts */
			s->ier = v & 0x0f;
		}
		break;
	case IIR_FCR:
		s->fcr = v & 0xc9;
		break;
	case LCR:
		s->lcr = v;
		break;
	case MCR:
		s->mcr = v & 0x1f;
		break;
	case SCR:
		s->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

enum pio_result serial8250_io(void *dev, uint32_t vcpu, uint16_t offset, int is_write,
			      uint8_t *data)
{
	struct serial8250 *s = dev;

	pthread_mutex_lock(&s->lock);
	if (is_write)
		write_reg(s, vcpu, offset, *data);
	else
		*data = read_reg(s, offset);
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return PIO_HANDLED;
}
