/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libFuzzer target: the bzImage loader (x86/boot.c) into a malloc'd guest memory, no KVM.
 * Input: [flags u8][RAM KiB u32][initrd size u64][cmdline length u8][cmdline][bzImage ...].
 * The kernel and the initrd are memfds (the initrd sparse, so its size can be anything a file
 * can have). RAM is the 20 MiB buffer or, with a nonzero KiB count, less of it: the rest is
 * poisoned, so ASan sees any write past the RAM the loader was given as well as outside the
 * buffer. A load that succeeds must describe a kernel inside low RAM.
 */
#define _GNU_SOURCE
#include <sanitizer/asan_interface.h>
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
	uint64_t ram_kib = fuzz_u32(&in), initrd_size = fuzz_u64(&in), entry = 0;
	uint64_t mem_size = ram_kib && ram_kib << 10 < MEM_SIZE ? ram_kib << 10 : MEM_SIZE;
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
	ASAN_POISON_MEMORY_REGION(mem + mem_size, MEM_SIZE - mem_size);
	rc = ktstr_load_linux_fd(mem, mem_size, kernel_fd, "bzimage",
				 flags & HAS_INITRD ? initrd_fd : -1, "initrd",
				 flags & 2 ? cmdline : NULL, &entry, err, sizeof(err));
	ASAN_UNPOISON_MEMORY_REGION(mem + mem_size, MEM_SIZE - mem_size);
	FUZZ_ASSERT(rc == 0 || rc == -1);
	if (rc == 0) {
		const uint8_t *bp = mem + KTSTR_BOOT_PARAMS_ADDR;

		FUZZ_ASSERT(entry >= KTSTR_GUEST_LOAD_ADDR + 0x200 && entry < mem_size);
		FUZZ_ASSERT(bp[0x1e8] >= 3 &&
			    bp[0x1e8] <= 4); /* e820: low, reserved, RAM (+ high) */
		FUZZ_ASSERT(memchr(mem + KTSTR_CMDLINE_ADDR, 0, KTSTR_CMDLINE_MAX) != NULL);
	} else {
		FUZZ_ASSERT(err[0] != 0); /* every refusal says why */
	}
	return 0;
}
