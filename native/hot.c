/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hot loops of ktstr's workers, native: a Python loop of 2000 iterations costs ~100x
 * the CPU work it stands for, so a spinning worker would measure the interpreter, not the
 * scheduler. The worker (Python) calls these through ctypes once per work unit and keeps
 * its telemetry between calls. Loaded from /opt/ktstr/lib in the guest.
 */
#include <stddef.h>
#include <stdint.h>

/* n iterations with a spin-wait hint, as the original's spin_burst: returns a value the
 * compiler cannot drop. */
uint64_t ktstr_spin(uint64_t n)
{
	volatile uint64_t acc = 0;

	for (uint64_t i = 0; i < n; i++) {
		acc += i;
		__builtin_ia32_pause();
	}
	return acc;
}

/* One strided read-modify-write pass over a buffer (cache pressure). */
void ktstr_cache_pass(uint8_t *buf, size_t len, size_t stride)
{
	if (!stride)
		return;
	for (size_t off = 0; off < len; off += stride)
		buf[off]++;
}

/* c = a x b for n x n u64 matrices (row-major), the naive O(n^3) of FanOutCompute. */
void ktstr_matmul(const uint64_t *a, const uint64_t *b, uint64_t *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			uint64_t sum = 0;

			for (size_t k = 0; k < n; k++)
				sum += a[i * n + k] * b[k * n + j];
			c[i * n + j] = sum;
		}
}
