/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libFuzzer target: the bzImage loader (x86/boot.c) into a malloc'd guest memory, no KVM.
 * Input: [flags u8][initrd size u64][cmdline length u8][cmdline][bzImage ...]. The kernel
 * and the initrd are memfds (the initrd sparse, so its size can be anything a file can
 * have); ASan sees any write outside guest memory, and a load that succeeds must describe a
 * kernel inside low RAM.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <unistd.h>
#include "../x86/x86.h"
#include "fuzz.h"

#define MEM_SIZE (20ULL << 20) /* above LOAD_PHYSICAL_MIN (16 MiB), so some images fit */
#define HAS_INITRD 1

static uint8_t *mem;
static int kernel_fd = -1, initrd_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct fuzz_input in = { data, len, 0 };
	char cmdline[256], err[256];
	uint8_t flags = fuzz_u8(&in), n;
	uint64_t initrd_size = fuzz_u64(&in), entry = 0;
	int rc;

	if (!mem) { /* once: 20 MiB per input would dominate the time */
		mem = malloc(MEM_SIZE);
		kernel_fd = memfd_create("bzimage", MFD_CLOEXEC);
		initrd_fd = memfd_create("initrd", MFD_CLOEXEC);
		FUZZ_ASSERT(mem && kernel_fd >= 0 && initrd_fd >= 0);
	}
	n = fuzz_u8(&in);
	fuzz_take(&in, cmdline, n);
	cmdline[n] = 0;
	FUZZ_ASSERT(ftruncate(kernel_fd, 0) == 0);
	if (len > in.pos)
		FUZZ_ASSERT(pwrite(kernel_fd, data + in.pos, len - in.pos, 0) ==
			    (ssize_t)(len - in.pos));
	/* Sizes a memfd refuses (above its maximum) are no initrd at all. */
	if ((flags & HAS_INITRD) && ftruncate(initrd_fd, (off_t)(initrd_size & INT64_MAX)) < 0)
		flags &= ~HAS_INITRD;
	rc = ktstr_load_linux_fd(mem, MEM_SIZE, kernel_fd, "bzimage",
				 flags & HAS_INITRD ? initrd_fd : -1, "initrd",
				 flags & 2 ? cmdline : NULL, &entry, err, sizeof(err));
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		const uint8_t *bp = mem + KTSTR_BOOT_PARAMS_ADDR;

		FUZZ_ASSERT(entry >= KTSTR_GUEST_LOAD_ADDR + 0x200 && entry < MEM_SIZE);
		FUZZ_ASSERT(bp[0x1e8] >= 3 &&
			    bp[0x1e8] <= 4); /* e820: low, reserved, RAM (+ high) */
		FUZZ_ASSERT(memchr(mem + KTSTR_CMDLINE_ADDR, 0, KTSTR_CMDLINE_MAX) != NULL);
	} else {
		FUZZ_ASSERT(err[0] != 0); /* every refusal says why */
	}
	return 0;
}
