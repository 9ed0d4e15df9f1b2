/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst): check the bzImage
 * setup header, load the protected-mode kernel at 1 MiB, fill the zero page (boot_params)
 * with a copy of the header, the command line, the initrd (at the top of low RAM, below
 * initrd_addr_max), the e820 map and the ACPI RSDP address. The vCPU then enters at
 * load address + 0x200 with RSI = boot_params (regs.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "x86.h"

/* Offsets into the setup header / boot_params (struct boot_params in asm/bootparam.h). */
#define BP_ACPI_RSDP_ADDR 0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define BP_E820_ENTRIES 0x1e8
#define HDR_SETUP_SECTS 0x1f1
#define HDR_VID_MODE 0x1fa
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x200
#define HDR_MAGIC 0x202
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_CODE32_START 0x214
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_HEAP_END_PTR 0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_RELOCATABLE 0x234
#define HDR_XLOADFLAGS 0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_PREF_ADDRESS 0x258
#define HDR_INIT_SIZE 0x260
#define BP_E820_TABLE 0x2d0
#define E820_MAX 128

#define HDRS_MAGIC 0x53726448u /* "HdrS" */
#define XLF_KERNEL_64 0x1
#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define LOAD_PHYSICAL_MIN 0x1000000ULL /* the decompressor never goes below 16 MiB */
#define E820_RAM 1
#define E820_RESERVED 2

static uint16_t get16(const uint8_t *p, size_t off)
{
	uint16_t v;
	memcpy(&v, p + off, 2);
	return v;
}
static uint32_t get32(const uint8_t *p, size_t off)
{
	uint32_t v;
	memcpy(&v, p + off, 4);
	return v;
}
static uint64_t get64(const uint8_t *p, size_t off)
{
	uint64_t v;
	memcpy(&v, p + off, 8);
	return v;
}
static void put16(uint8_t *p, size_t off, uint16_t v)
{
	memcpy(p + off, &v, 2);
}
static void put32(uint8_t *p, size_t off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}
static void put64(uint8_t *p, size_t off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		goto out;                                                                          \
	} while (0)

static int read_at(int fd, uint8_t *dst, uint64_t len, uint64_t off)
{
	while (len > 0) {
		ssize_t n = pread(fd, dst, len, off);

		if (n <= 0)
			return -1;
		dst += n;
		len -= n;
		off += n;
	}
	return 0;
}

static void add_e820(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	uint8_t n = bp[BP_E820_ENTRIES];
	uint8_t *e = bp + BP_E820_TABLE + n * 20;

	if (n >= E820_MAX || !size)
		return;
	put64(e, 0, addr);
	put64(e, 8, size);
	put32(e, 16, type);
	bp[BP_E820_ENTRIES] = n + 1;
}

static void write_e820(uint8_t *bp, uint64_t mem_size)
{
	struct ktstr_ram_range ram[2];
	int n = ktstr_ram_ranges(mem_size, ram);

	add_e820(bp, 0, KTSTR_EBDA_ADDR, E820_RAM);
	/* EBDA, legacy video/ROM and the ACPI tables: reserved up to 1 MiB */
	add_e820(bp, KTSTR_EBDA_ADDR, KTSTR_GUEST_LOAD_ADDR - KTSTR_EBDA_ADDR, E820_RESERVED);
	add_e820(bp, KTSTR_GUEST_LOAD_ADDR, ram[0].size - KTSTR_GUEST_LOAD_ADDR, E820_RAM);
	if (n == 2)
		add_e820(bp, ram[1].start, ram[1].size, E820_RAM);
}

/*
 * Every size and address below comes from the image, the initrd's size or the caller, so
 * each sum is checked (__builtin_*_overflow) before it bounds a write into guest memory:
 * with pref_address near 2^64, load_addr + pm_size wrapped below low_end and the kernel was
 * read to before guest memory; a file shorter than its setup sectors made pm_size wrap.
 */
int ktstr_load_linux_fd(uint8_t *mem, uint64_t mem_size, int fd, const char *kernel, int ifd,
			const char *initrd, const char *cmdline, uint64_t *entry, char *err,
			size_t errlen)
{
	struct ktstr_ram_range ram[2];
	uint8_t hdr[1024], *bp = mem + KTSTR_BOOT_PARAMS_ADDR;
	uint64_t low_end, load_addr, pm_offset, pm_size, pm_end, init_end, initrd_max;
	uint64_t size, addr;
	size_t cmdlen = cmdline ? strlen(cmdline) : 0;
	struct stat st;
	int rc = -1;

	ktstr_ram_ranges(mem_size, ram);
	low_end = ram[0].size;
	/* boot_params, the command line and the e820 entries below 1 MiB must fit. */
	if (low_end < KTSTR_GUEST_LOAD_ADDR)
		FAIL("memory_mib: %llu bytes of RAM is less than the 1 MiB the boot protocol needs",
		     (unsigned long long)mem_size);
	if (fstat(fd, &st) < 0)
		FAIL("kernel %s: %s", kernel, strerror(errno));
	size = (uint64_t)st.st_size;
	if (size < sizeof(hdr) || read_at(fd, hdr, sizeof(hdr), 0) < 0)
		FAIL("kernel %s: not a bzImage (only %llu bytes)", kernel,
		     (unsigned long long)size);
	if (get16(hdr, HDR_BOOT_FLAG) != 0xaa55 || get32(hdr, HDR_MAGIC) != HDRS_MAGIC)
		FAIL("kernel %s: not a bzImage (no HdrS setup header); pass arch/x86/boot/bzImage, "
		     "not vmlinux",
		     kernel);
	if (get16(hdr, HDR_VERSION) < 0x20c || !(get16(hdr, HDR_XLOADFLAGS) & XLF_KERNEL_64))
		FAIL("kernel %s: boot protocol %#x without a 64-bit entry point (need 2.12+ with "
		     "XLF_KERNEL_64: an x86_64 kernel)",
		     kernel, get16(hdr, HDR_VERSION));

	pm_offset = ((uint64_t)(hdr[HDR_SETUP_SECTS] ? hdr[HDR_SETUP_SECTS] : 4) + 1) * 512;
	if (size <= pm_offset)
		FAIL("kernel %s: setup_sects %u puts the kernel at byte %llu, past the file's end "
		     "(%llu bytes)",
		     kernel, hdr[HDR_SETUP_SECTS], (unsigned long long)pm_offset,
		     (unsigned long long)size);
	pm_size = size - pm_offset;
	load_addr = hdr[HDR_RELOCATABLE] ? KTSTR_GUEST_LOAD_ADDR : get64(hdr, HDR_PREF_ADDRESS);
	/* Below 1 MiB are boot_params, the page tables and the ACPI tables. */
	if (load_addr < KTSTR_GUEST_LOAD_ADDR ||
	    __builtin_add_overflow(load_addr, pm_size, &pm_end))
		FAIL("kernel %s: pref_address %#llx (not relocatable) is outside guest RAM", kernel,
		     (unsigned long long)load_addr);
	/* Where the decompressed kernel will end: the initrd must stay clear of it. */
	if (__builtin_add_overflow(load_addr > LOAD_PHYSICAL_MIN ? load_addr : LOAD_PHYSICAL_MIN,
				   (uint64_t)get32(hdr, HDR_INIT_SIZE), &init_end) ||
	    pm_end > low_end || init_end > low_end)
		FAIL("memory_mib: %llu MiB is too small for kernel %s (it needs %llu MiB to "
		     "decompress)",
		     (unsigned long long)(mem_size >> 20), kernel,
		     (unsigned long long)((pm_end > init_end ? pm_end : init_end) >> 20) + 1);
	if (pm_end > init_end)
		init_end = pm_end; /* the initrd stays clear of the loaded image too */
	if (read_at(fd, mem + load_addr, pm_size, pm_offset) < 0)
		FAIL("kernel %s: read failed: %s", kernel, strerror(errno));

	memset(bp, 0, 4096);
	/* The header runs from 0x1f1 to 0x202 + the jump's displacement byte (at most 0x301,
	 * inside hdr and the 4 KiB zero page). */
	memcpy(bp + HDR_SETUP_SECTS, hdr + HDR_SETUP_SECTS,
	       0x202 + hdr[HDR_JUMP + 1] - HDR_SETUP_SECTS);
	put16(bp, HDR_VID_MODE, 0xffff); /* "normal" */
	bp[HDR_TYPE_OF_LOADER] = 0xff;   /* undefined loader */
	bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
	put16(bp, HDR_HEAP_END_PTR, 0xfe00);
	put32(bp, HDR_CODE32_START, (uint32_t)load_addr);
	put64(bp, BP_ACPI_RSDP_ADDR, KTSTR_ACPI_ADDR);

	/* cmdline_size excludes the terminating NUL; KTSTR_CMDLINE_MAX keeps the line (and its
	 * NUL) below the EBDA. */
	if (cmdlen > get32(hdr, HDR_CMDLINE_SIZE) || cmdlen >= KTSTR_CMDLINE_MAX)
		FAIL("cmdline: %zu bytes, the kernel takes at most %u", cmdlen,
		     get32(hdr, HDR_CMDLINE_SIZE));
	memset(mem + KTSTR_CMDLINE_ADDR, 0, cmdlen + 1);
	if (cmdlen)
		memcpy(mem + KTSTR_CMDLINE_ADDR, cmdline, cmdlen);
	put32(bp, HDR_CMD_LINE_PTR, (uint32_t)KTSTR_CMDLINE_ADDR);
	put32(bp, BP_EXT_CMD_LINE_PTR, 0);

	if (ifd >= 0) {
		if (fstat(ifd, &st) < 0)
			FAIL("initrd %s: %s", initrd, strerror(errno));
		size = (uint64_t)st.st_size;
		initrd_max = (uint64_t)get32(hdr, HDR_INITRD_ADDR_MAX) + 1;
		if (initrd_max > low_end)
			initrd_max = low_end;
		/* The top of RAM (or initrd_addr_max) down to the kernel's end; checked before
		 * the subtraction that used to wrap for an initrd larger than initrd_max. */
		if (size > initrd_max || ((initrd_max - size) & ~0xfffULL) < init_end)
			FAIL("memory_mib: %llu MiB is too small for kernel %s plus initrd %s (%llu "
			     "MiB)",
			     (unsigned long long)(mem_size >> 20), kernel, initrd,
			     (unsigned long long)(size >> 20));
		addr = (initrd_max - size) & ~0xfffULL;
		if (read_at(ifd, mem + addr, size, 0) < 0)
			FAIL("initrd %s: read failed: %s", initrd, strerror(errno));
		put32(bp, HDR_RAMDISK_IMAGE, (uint32_t)addr);
		put32(bp, HDR_RAMDISK_SIZE, (uint32_t)size);
		put32(bp, BP_EXT_RAMDISK_IMAGE, (uint32_t)(addr >> 32));
		put32(bp, BP_EXT_RAMDISK_SIZE, (uint32_t)(size >> 32));
	}
	write_e820(bp, mem_size);
	*entry = load_addr + 0x200; /* startup_64 */
	rc = 0;
out:
	return rc;
}

int ktstr_load_linux(uint8_t *mem, uint64_t mem_size, const char *kernel, const char *initrd,
		     const char *cmdline, uint64_t *entry, char *err, size_t errlen)
{
	int fd = -1, ifd = -1, rc = -1;

	fd = open(kernel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		FAIL("kernel %s: %s", kernel, strerror(errno));
	if (initrd && *initrd) {
		ifd = open(initrd, O_RDONLY | O_CLOEXEC);
		if (ifd < 0)
			FAIL("initrd %s: %s", initrd, strerror(errno));
	}
	rc = ktstr_load_linux_fd(mem, mem_size, fd, kernel, ifd, initrd, cmdline, entry, err,
				 errlen);
out:
	if (fd >= 0)
		close(fd);
	if (ifd >= 0)
		close(ifd);
	return rc;
}
