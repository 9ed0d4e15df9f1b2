/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ktstr's own schbench-style wakeup-latency benchmark (written for ktstr, after the idea
 * of Chris Mason's schbench): M message threads each own W worker threads. Every round a
 * message thread stamps CLOCK_MONOTONIC into each worker's slot and FUTEX_WAKEs it; the
 * worker records (now - stamp) as its wakeup latency, spins for the "think" time, and
 * goes back to sleep; when all its workers are done the message thread sleeps and starts
 * the next round. At the end it prints the wakeup latency percentiles (usec) and the
 * rounds per second:
 *
 *   Wakeup Latencies percentiles (usec) runtime 2 (s) (1234 total samples)
 *     50.0th: 12
 *     90.0th: 40
 *     99.0th: 210
 *     99.9th: 800
 *     max: 950
 *   rps: 617.00
 *
 * Usage: schbench [-m MSG_THREADS] [-t WORKERS_PER_MSG] [-r SECONDS] [-s SLEEP_US] [-c THINK_US]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES (1 << 20)

struct worker {
	_Atomic uint32_t go;      /* futex word: 1 = a request is waiting */
	_Atomic uint64_t stamp;   /* when the message thread posted it (ns) */
	struct msg *msg;
	pthread_t tid;
};

struct msg {
	_Atomic uint32_t pending; /* futex word: workers still busy this round */
	struct worker *workers;
	int nr;
	uint64_t rounds;
	pthread_t tid;
};

static int think_us = 50, sleep_us = 100, runtime_s = 2;
static _Atomic int stopping;
static uint64_t *samples;
static _Atomic uint64_t nr_samples;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	struct timespec timeout = { 0, 100 * 1000 * 1000 }; /* look at `stopping` every 100 ms */

	syscall(SYS_futex, word, FUTEX_WAIT, val, &timeout, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE, n, NULL, NULL, 0);
}

static void think(void)
{
	uint64_t end = now_ns() + (uint64_t)think_us * 1000;

	while (now_ns() < end)
		__builtin_ia32_pause();
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stopping)) {
		if (!atomic_load(&w->go)) {
			futex_wait(&w->go, 0);
			continue;
		}
		uint64_t lat = now_ns() - atomic_load(&w->stamp);
		uint64_t i = atomic_fetch_add(&nr_samples, 1);

		if (i < MAX_SAMPLES)
			samples[i] = lat;
		think();
		atomic_store(&w->go, 0);
		if (atomic_fetch_sub(&w->msg->pending, 1) == 1)
			futex_wake(&w->msg->pending, 1);
	}
	return NULL;
}

static void *msg_main(void *arg)
{
	struct msg *m = arg;

	while (!atomic_load(&stopping)) {
		atomic_store(&m->pending, (uint32_t)m->nr);
		for (int i = 0; i < m->nr; i++) {
			atomic_store(&m->workers[i].stamp, now_ns());
			atomic_store(&m->workers[i].go, 1);
			futex_wake(&m->workers[i].go, 1);
		}
		uint32_t left;

		while ((left = atomic_load(&m->pending)) && !atomic_load(&stopping))
			futex_wait(&m->pending, left);
		m->rounds++;
		if (sleep_us)
			usleep((useconds_t)sleep_us);
	}
	for (int i = 0; i < m->nr; i++) { /* let sleeping workers see `stopping` */
		atomic_store(&m->workers[i].go, 1);
		futex_wake(&m->workers[i].go, 1);
	}
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t pct(uint64_t n, double p)
{
	/* nearest rank: sorted[ceil(n * p) - 1] */
	uint64_t rank = (uint64_t)((double)n * p + 0.999999);

	return samples[(rank ? rank : 1) - 1] / 1000;
}

static int arg(const char *s, const char *what)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 0 || v > 1000000) {
		fprintf(stderr, "schbench: bad %s %s\n", what, s);
		exit(2);
	}
	return (int)v;
}

int main(int argc, char **argv)
{
	int msgs = 1, per = 2, opt;

	while ((opt = getopt(argc, argv, "m:t:r:s:c:h")) != -1) {
		switch (opt) {
		case 'm': msgs = arg(optarg, "-m"); break;
		case 't': per = arg(optarg, "-t"); break;
		case 'r': runtime_s = arg(optarg, "-r"); break;
		case 's': sleep_us = arg(optarg, "-s"); break;
		case 'c': think_us = arg(optarg, "-c"); break;
		default:
			fprintf(opt == 'h' ? stdout : stderr, "usage: %s [-m MSG_THREADS] [-t WORKERS_PER_MSG] "
				"[-r SECONDS] [-s SLEEP_US] [-c THINK_US]\n", argv[0]);
			return opt == 'h' ? 0 : 2;
		}
	}
	if (!msgs || !per || !runtime_s) {
		fprintf(stderr, "schbench: -m, -t and -r must be at least 1\n");
		return 2;
	}
	samples = calloc(MAX_SAMPLES, sizeof(*samples));
	struct msg *m = calloc((size_t)msgs, sizeof(*m));

	if (!samples || !m)
		return 1;
	for (int i = 0; i < msgs; i++) {
		m[i].nr = per;
		m[i].workers = calloc((size_t)per, sizeof(struct worker));
		if (!m[i].workers)
			return 1;
		for (int j = 0; j < per; j++) {
			m[i].workers[j].msg = &m[i];
			pthread_create(&m[i].workers[j].tid, NULL, worker_main, &m[i].workers[j]);
		}
		pthread_create(&m[i].tid, NULL, msg_main, &m[i]);
	}
	sleep((unsigned)runtime_s);
	atomic_store(&stopping, 1);
	uint64_t rounds = 0;

	for (int i = 0; i < msgs; i++) {
		pthread_join(m[i].tid, NULL);
		for (int j = 0; j < per; j++) {
			atomic_store(&m[i].workers[j].go, 1);
			futex_wake(&m[i].workers[j].go, 1);
			pthread_join(m[i].workers[j].tid, NULL);
		}
		rounds += m[i].rounds;
	}
	uint64_t n = atomic_load(&nr_samples);

	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	if (!n) {
		fprintf(stderr, "schbench: no wakeups recorded\n");
		return 1;
	}
	qsort(samples, n, sizeof(*samples), cmp_u64);
	printf("Wakeup Latencies percentiles (usec) runtime %d (s) (%llu total samples)\n", runtime_s,
	       (unsigned long long)n);
	printf("\t  50.0th: %llu\n", (unsigned long long)pct(n, 0.50));
	printf("\t  90.0th: %llu\n", (unsigned long long)pct(n, 0.90));
	printf("\t  99.0th: %llu\n", (unsigned long long)pct(n, 0.99));
	printf("\t  99.9th: %llu\n", (unsigned long long)pct(n, 0.999));
	printf("\t  max: %llu\n", (unsigned long long)(samples[n - 1] / 1000));
	printf("rps: %.2f\n", (double)rounds / runtime_s);
	return 0;
}
