/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktstr_verifier_shim: an LD_PRELOAD library that records what the BPF verifier says about
 * every program a scheduler's loader loads, whatever the loader (ktstr's own, the kernel's
 * examples, a Rust scheduler): libbpf reaches the kernel through libc's syscall(), which this
 * library wraps.
 *
 * For each BPF_PROG_LOAD the loader makes without a log of its own, the load runs with
 * log_level BPF_LOG_STATS into our buffer, and one record goes to $KTSTR_VERIFIER_OUT, a frame of
 * the result stream (below):
 * instructions processed, states (total, peak, max per insn), mark_read, verification time,
 * stack depth, and bpf_prog_info.verified_insns. A rejected load is repeated with the full
 * log (level 1, rotating: the kernel keeps its end) and the last lines go in the record; the
 * loader still gets the original failure. With KTSTR_VERIFIER_ONLY=1 the process exits 0 at
 * the first update of a struct_ops map, which is where attaching begins: everything is
 * verified and the scheduler never runs.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define STATS_LOG_SIZE (64 * 1024)
#define BIG_LOG_SIZE (8 * 1024 * 1024)
#define TAIL_LINES 40

typedef long (*syscall_fn)(long, ...);

static long real_syscall(long nr, long a, long b, long c, long d, long e, long f)
{
	static syscall_fn next;

	if (!next)
		next = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
	return next(nr, a, b, c, d, e, f);
}

static long sys_bpf(int cmd, union bpf_attr *attr, unsigned int size)
{
	return real_syscall(__NR_bpf, cmd, (long)attr, size, 0, 0, 0);
}

/* --- output: one frame per record ---------------------------------------------------
 *
 * The records are frames of the result stream (ktstr/wire/frames.py), type VERIFIER, whose
 * payload is a VerifierRecord (ktstr/wire/ktstr.proto) in protobuf's wire format:
 *   magic "KTS2" | type u16 | flags u16 | seq u32 | length u32 | crc32(payload) u32 |
 *   mac (32 zero bytes: nothing in a cell holds a key) | payload
 * little endian. tests/verifier/test_verifier.py reads what this writes with the host's
 * decoder.
 */

#define FRAME_VERIFIER 6
#define FRAME_HEADER 52

/* VerifierRecord's field numbers. */
enum {
	PB_EVENT = 1, PB_SCHED, PB_PROG, PB_PROG_TYPE, PB_ATTACH_TYPE, PB_INSN_CNT, PB_OK, PB_ERRNO,
	PB_INSNS, PB_INSN_LIMIT, PB_MAX_STATES_PER_INSN, PB_TOTAL_STATES, PB_PEAK_STATES, PB_MARK_READ,
	PB_TIME_US, PB_VERIFIED_INSNS, PB_STACK_DEPTH, PB_LOG_TAIL,
};

/*
 * A record's payload. Small records stay in `fixed` and touch no heap: the attach record is
 * written by a loader about to attach, whose heap may already be corrupt (scx_central's
 * CPU_ZERO on a CPU_ALLOC'd set overruns it; a realloc here then aborted the loader).
 */
struct out {
	char *buf;
	size_t len, cap;
	char fixed[512];
};

static void put(struct out *o, const void *s, size_t n)
{
	if (!o->buf) {
		o->buf = o->fixed;
		o->cap = sizeof(o->fixed);
	}
	if (o->len + n > o->cap) {
		size_t cap = (o->cap + n) * 2;
		char *p = o->buf == o->fixed ? malloc(cap) : realloc(o->buf, cap);

		if (!p)
			return;
		if (o->buf == o->fixed)
			memcpy(p, o->fixed, o->len);
		o->buf = p;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void write_all(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(fd, (const char *)buf + off, len - off);

		if (n <= 0)
			break;
		off += (size_t)n;
	}
}

static void put_varint(struct out *o, unsigned long long v)
{
	unsigned char b[10];
	size_t n = 0;

	do {
		b[n] = v & 0x7f;
		v >>= 7;
		if (v)
			b[n] |= 0x80;
		n++;
	} while (v);
	put(o, b, n);
}

/* An int64 field (a negative value takes ten bytes, as protobuf's int64 does). */
static void put_num(struct out *o, int field, long long v)
{
	put_varint(o, (unsigned long long)field << 3);
	put_varint(o, (unsigned long long)v);
}

/* A bytes/string field: at most max bytes of s, up to its NUL. */
static void put_str(struct out *o, int field, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	put_varint(o, (unsigned long long)field << 3 | 2);
	put_varint(o, n);
	put(o, s, n);
}

static void put_sched(struct out *o, const char *event)
{
	const char *sched = getenv("KTSTR_VERIFIER_SCHED");

	put_str(o, PB_EVENT, event, 16);
	put_str(o, PB_SCHED, sched ? sched : "", 256);
}

static uint32_t crc32(const unsigned char *p, size_t n)
{
	uint32_t crc = 0xffffffff;

	while (n--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
	}
	return ~crc;
}

static void le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

/* The record in o as one frame: its header, then its payload (nothing else writes meanwhile:
 * the cell's /init waits for the loader). */
static void emit(struct out *o)
{
	const char *path = getenv("KTSTR_VERIFIER_OUT");
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOCTTY | O_CLOEXEC, 0644) : 2;
	unsigned char head[FRAME_HEADER] = { 'K', 'T', 'S', '2', FRAME_VERIFIER, 0 };

	le32(head + 12, (uint32_t)o->len);
	le32(head + 16, crc32((const unsigned char *)o->buf, o->len));
	if (fd >= 0 && o->buf) {
		write_all(fd, head, sizeof(head));
		write_all(fd, o->buf, o->len);
	}
	if (path && fd >= 0)
		close(fd);
	if (o->buf != o->fixed)
		free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

/* --- the verifier's figures ---------------------------------------------------------- */

static long long find_num(const char *log, const char *key)
{
	const char *p = strstr(log, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static void put_stats(struct out *o, const char *log)
{
	const char *sd = strstr(log, "stack depth ");

	put_num(o, PB_INSNS, find_num(log, "processed "));
	put_num(o, PB_INSN_LIMIT, find_num(log, "(limit "));
	put_num(o, PB_MAX_STATES_PER_INSN, find_num(log, "max_states_per_insn "));
	put_num(o, PB_TOTAL_STATES, find_num(log, "total_states "));
	put_num(o, PB_PEAK_STATES, find_num(log, "peak_states "));
	put_num(o, PB_MARK_READ, find_num(log, "mark_read "));
	put_num(o, PB_TIME_US, find_num(log, "verification time "));
	if (sd) {
		sd += strlen("stack depth ");
		put_str(o, PB_STACK_DEPTH, sd, strcspn(sd, "\n"));
	}
}

static void put_tail(struct out *o, const char *log)
{
	size_t n = strlen(log);
	const char *start = log;
	int lines = 0;

	while (n > 0 && log[n - 1] == '\n')
		n--;
	for (size_t i = n; i > 0; i--) {
		if (log[i - 1] == '\n' && ++lines == TAIL_LINES) {
			start = log + i;
			break;
		}
	}
	put_str(o, PB_LOG_TAIL, start, (size_t)(log + n - start));
}

static void begin_record(struct out *o, union bpf_attr *attr)
{
	put_sched(o, "prog");
	put_str(o, PB_PROG, attr->prog_name, sizeof(attr->prog_name));
	put_num(o, PB_PROG_TYPE, attr->prog_type);
	put_num(o, PB_ATTACH_TYPE, attr->expected_attach_type);
	put_num(o, PB_INSN_CNT, attr->insn_cnt);
}

/* BPF_OBJ_GET_INFO_BY_FD into a zeroed struct bpf_prog_info / bpf_map_info. */
static int obj_info(int fd, void *info, __u32 len)
{
	union bpf_attr a;

	memset(info, 0, len);
	memset(&a, 0, sizeof(a));
	a.info.bpf_fd = fd;
	a.info.info_len = len;
	a.info.info = (unsigned long)info;
	return (int)sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a, sizeof(a));
}

static long long verified_insns(int fd)
{
	struct bpf_prog_info info;

	return obj_info(fd, &info, sizeof(info)) ? -1 : (long long)info.verified_insns;
}

static long load_with_log(union bpf_attr *attr, unsigned int size, __u32 level, char *buf, __u32 len)
{
	buf[0] = 0;
	attr->log_level = level;
	attr->log_buf = (unsigned long)buf;
	attr->log_size = len;
	return sys_bpf(BPF_PROG_LOAD, attr, size);
}

static long prog_load(union bpf_attr *attr, unsigned int size)
{
	static char stats_log[STATS_LOG_SIZE];
	char *big = NULL;
	char *log = stats_log;
	struct out o = {0};
	long fd;
	int err;

	fd = load_with_log(attr, size, 4 /* BPF_LOG_STATS */, stats_log, sizeof(stats_log));
	if (fd < 0 && errno == ENOSPC && (big = malloc(BIG_LOG_SIZE))) {
		log = big;
		fd = load_with_log(attr, size, 4, big, BIG_LOG_SIZE);
	}
	err = fd < 0 ? errno : 0;
	begin_record(&o, attr);
	if (fd < 0) {
		/* Again with the whole log: the kernel keeps its end, where the reason is. */
		if (!big)
			big = malloc(BIG_LOG_SIZE);
		if (big) {
			long again = load_with_log(attr, size, 1 | 4, big, BIG_LOG_SIZE);

			if (again >= 0)
				close((int)again);
			log = big;
		}
	}
	attr->log_level = 0;
	attr->log_buf = 0;
	attr->log_size = 0;
	put_num(&o, PB_OK, fd >= 0);
	put_num(&o, PB_ERRNO, err);
	put_stats(&o, log);
	put_num(&o, PB_VERIFIED_INSNS, fd < 0 ? -1 : verified_insns((int)fd));
	if (fd < 0)
		put_tail(&o, log);
	emit(&o);
	free(big);
	errno = err;
	return fd;
}

static int is_struct_ops_map(int map_fd)
{
	struct bpf_map_info info;

	return !obj_info(map_fd, &info, sizeof(info)) && info.type == BPF_MAP_TYPE_STRUCT_OPS;
}

static long bpf_hook(int cmd, union bpf_attr *attr, unsigned int size)
{
	const char *only = getenv("KTSTR_VERIFIER_ONLY");

	if (attr && cmd == BPF_PROG_LOAD && attr->log_level == 0)
		return prog_load(attr, size);
	if (attr && cmd == BPF_MAP_UPDATE_ELEM && only && *only == '1' && is_struct_ops_map((int)attr->map_fd)) {
		struct out o = {0};

		put_sched(&o, "attach");
		emit(&o);
		_exit(0);
	}
	return sys_bpf(cmd, attr, size);
}

long syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == __NR_bpf)
		return bpf_hook((int)a[0], (union bpf_attr *)a[1], (unsigned int)a[2]);
	return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
