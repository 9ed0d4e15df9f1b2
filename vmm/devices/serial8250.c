/* SPDX-License-Identifier: GPL-2.0 */
#include <string.h>
#include <unistd.h>
#include "serial8250.h"

#define THR 0
#define LSR 5
#define LSR_THRE_TEMT 0x60

void serial8250_init(struct serial8250 *s, uint16_t base, int out_fd)
{
	memset(s, 0, sizeof(*s));
	s->base = base;
	s->out_fd = out_fd;
	pthread_mutex_init(&s->lock, NULL);
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n <= 0)
			return;
		buf += n;
		len -= n;
	}
}

void serial8250_flush(struct serial8250 *s, uint32_t vcpu)
{
	if (vcpu >= KTSTR_MAX_VCPUS || !s->len[vcpu])
		return;
	pthread_mutex_lock(&s->lock);
	write_all(s->out_fd, s->line[vcpu], s->len[vcpu]);
	pthread_mutex_unlock(&s->lock);
	s->len[vcpu] = 0;
}

int serial8250_io(struct serial8250 *s, uint32_t vcpu, uint16_t port, int is_write, uint8_t *data)
{
	if (port < s->base || port >= s->base + 8)
		return 0;
	if (!is_write) {
		*data = port - s->base == LSR ? LSR_THRE_TEMT : 0;
		return 1;
	}
	if (port - s->base != THR || vcpu >= KTSTR_MAX_VCPUS)
		return 1;
	s->line[vcpu][s->len[vcpu]++] = (char)*data;
	if (*data == '\n' || s->len[vcpu] == KTSTR_LINE_MAX)
		serial8250_flush(s, vcpu);
	return 1;
}
