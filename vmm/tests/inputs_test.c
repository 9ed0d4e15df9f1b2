/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VMM against crafted inputs (issue 22): bzImages whose header sizes and addresses wrap
 * the loader's arithmetic, initrds and command lines that do not fit, and topologies whose
 * vCPU count wraps 32 bits. Each must be refused with a named error and nothing written
 * outside guest memory. Built with ASan + UBSan (every finding fatal), no KVM needed: the
 * VM is refused before /dev/kvm is opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../x86/x86.h"
#include "check.h"

#define MEM_SIZE (20ULL << 20) /* 16 MiB (LOAD_PHYSICAL_MIN) + room to decompress */
#define GUARD 4096
/* Errors name the files, whose paths under TEST_TMPDIR are long: room for all of it. */
#define ERR_LEN 1024

static char dir[4096];

struct image {
	uint64_t file_size, pref_address;
	uint32_t init_size, cmdline_size, initrd_addr_max;
	uint8_t setup_sects, relocatable;
};

/* A bzImage header (boot protocol 2.15, 64-bit entry) with the given fields; the rest of
 * the file is a byte pattern, so a load can be checked byte for byte. */
static const char *write_image(const char *name, const struct image *im)
{
	static char path[4200];
	uint8_t hdr[1024] = { 0 };
	uint16_t v16;
	uint32_t v32;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	hdr[0x1f1] = im->setup_sects;
	v16 = 0xaa55, memcpy(hdr + 0x1fe, &v16, 2);
	hdr[0x200] = 0xeb, hdr[0x201] = 0x66; /* jmp over the header, as Linux's */
	memcpy(hdr + 0x202, "HdrS", 4);
	v16 = 0x20f, memcpy(hdr + 0x206, &v16, 2);
	memcpy(hdr + 0x22c, &im->initrd_addr_max, 4);
	hdr[0x234] = im->relocatable;
	v16 = 1, memcpy(hdr + 0x236, &v16, 2); /* XLF_KERNEL_64 */
	memcpy(hdr + 0x238, &im->cmdline_size, 4);
	memcpy(hdr + 0x258, &im->pref_address, 8);
	v32 = im->init_size, memcpy(hdr + 0x260, &v32, 4);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, hdr, sizeof(hdr)) != sizeof(hdr))
		abort();
	for (uint64_t off = sizeof(hdr); off < im->file_size; off += 4096) {
		uint8_t page[4096];
		uint64_t n = im->file_size - off < sizeof(page) ? im->file_size - off
								: sizeof(page);

		for (uint64_t i = 0; i < n; i++)
			page[i] = (uint8_t)((off + i) >> 12); /* the file's 4 KiB page number */
		if (write(fd, page, n) != (ssize_t)n)
			abort();
	}
	close(fd);
	return path;
}

static const char *sparse_file(const char *name, uint64_t size)
{
	static char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		abort();
	close(fd);
	return path;
}

/* Guest memory with a guard page either side: the checks below see any stray write even
 * where ASan would not (the guards are inside one allocation). */
static uint8_t *guest_mem(void)
{
	uint8_t *buf = malloc(MEM_SIZE + 2 * GUARD);

	if (!buf)
		abort();
	memset(buf, 0xcc, MEM_SIZE + 2 * GUARD);
	return buf + GUARD;
}

static int guards_intact(const uint8_t *mem)
{
	for (uint64_t i = 0; i < GUARD; i++)
		if (mem[-1 - (int64_t)i] != 0xcc || mem[MEM_SIZE + i] != 0xcc)
			return 0;
	return 1;
}

static int load(uint8_t *mem, const char *kernel, const char *initrd, const char *cmdline,
		char *err, size_t errlen)
{
	uint64_t entry = 0;

	err[0] = 0;
	return ktstr_load_linux(mem, MEM_SIZE, kernel, initrd, cmdline, &entry, err, errlen) < 0
		       ? -1
		       : (int)(entry == KTSTR_GUEST_LOAD_ADDR + 0x200);
}

static const struct image good = {
	.file_size = 0x1000 + 0x100000, /* 8 sectors of setup, 1 MiB of kernel */
	.setup_sects = 7,
	.relocatable = 1,
	.init_size = 0x100000,
	.cmdline_size = 2047,
	.initrd_addr_max = 0x7fffffff,
};

static void test_good_image_loads(void)
{
	uint8_t *mem = guest_mem();
	char err[ERR_LEN];
	const char *initrd = sparse_file("initrd", 0x3000);

	CHECK(load(mem, write_image("good", &good), initrd, "console=ttyS0", err, sizeof(err)) ==
	      1);
	/* the kernel's first byte is file offset 0x1000 (page 1), its last 0x100fff (page 0x100) */
	CHECK(mem[KTSTR_GUEST_LOAD_ADDR] == 1 && mem[KTSTR_GUEST_LOAD_ADDR + 0xfffff] == 0);
	CHECK(!memcmp(mem + KTSTR_BOOT_PARAMS_ADDR + 0x202, "HdrS", 4));
	CHECK(!strcmp((char *)mem + KTSTR_CMDLINE_ADDR, "console=ttyS0"));
	CHECK(guards_intact(mem));
	free(mem - GUARD);
}

/* The reproducer: not relocatable, pref_address 1 MiB below 2^64, a 1 MiB kernel.
 * load_addr + pm_size wrapped to 0 (< low_end) and init_end (max(load_addr, 16 MiB) +
 * init_size) wrapped to 1 MiB, so the kernel was read to 1 MiB before guest memory. */
static void test_pref_address_wrap(void)
{
	struct image im = good;
	uint8_t *mem = guest_mem();
	char err[ERR_LEN];

	im.relocatable = 0;
	im.pref_address = 0ULL - 0x100000;
	im.init_size = 0x200000;
	CHECK(load(mem, write_image("wrap", &im), NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "pref_address 0xfffffffffff00000") != NULL);
	CHECK(guards_intact(mem));
	/* 4 KiB below 2^64: the same wrap would write the guard page just before guest memory. */
	im.pref_address = 0ULL - 0x1000;
	CHECK(load(mem, write_image("wrap2", &im), NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "pref_address 0xfffffffffffff000") != NULL);
	CHECK(guards_intact(mem));
	/* Below 1 MiB would overwrite boot_params, the page tables and the ACPI tables. */
	im.pref_address = 0x10000;
	CHECK(load(mem, write_image("low", &im), NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "pref_address 0x10000") != NULL);
	/* Just past the end of RAM: refused as too small, not read. */
	im.pref_address = MEM_SIZE - 0x1000;
	CHECK(load(mem, write_image("high", &im), NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "memory_mib: 20 MiB is too small") != NULL);
	CHECK(guards_intact(mem));
	free(mem - GUARD);
}

/* 255 setup sectors put the kernel at byte 131072 of a 1 KiB file: pm_size wrapped. */
static void test_setup_sects_past_end(void)
{
	struct image im = good;
	uint8_t *mem = guest_mem();
	char err[ERR_LEN];

	im.file_size = 1024;
	im.setup_sects = 255;
	CHECK(load(mem, write_image("short", &im), NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "setup_sects 255 puts the kernel at byte 131072, past the file's end") !=
	      NULL);
	CHECK(guards_intact(mem));
	free(mem - GUARD);
}

/* Less than 1 MiB of RAM: boot_params, the command line and the e820 map's fixed entries
 * would not fit (ram[0].size - 1 MiB wrapped in the e820 map). */
static void test_tiny_memory(void)
{
	uint8_t *mem = guest_mem();
	uint64_t entry;
	char err[ERR_LEN];

	CHECK(ktstr_load_linux(mem, 0x80000, write_image("tiny", &good), NULL, NULL, &entry, err,
			       sizeof(err)) == -1);
	CHECK(strstr(err, "memory_mib: 524288 bytes of RAM is less than the 1 MiB") != NULL);
	CHECK(guards_intact(mem));
	free(mem - GUARD);
}

static void test_init_size_too_big(void)
{
	struct image im = good;
	uint8_t *mem = guest_mem();
	char err[ERR_LEN];

	im.init_size = 0xffffffff;
	CHECK(load(mem, write_image("init", &im), NULL, NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "too small for kernel") && strstr(err, "needs 4112 MiB"));
	free(mem - GUARD);
}

static void test_cmdline_too_long(void)
{
	struct image im = good;
	uint8_t *mem = guest_mem();
	char err[ERR_LEN], *line = malloc(KTSTR_CMDLINE_MAX + 1);

	memset(line, 'x', KTSTR_CMDLINE_MAX);
	line[KTSTR_CMDLINE_MAX] = 0;
	line[100] = 0;
	CHECK(load(mem, write_image("cmd", &im), NULL, line, err, sizeof(err)) == 1);
	line[100] = 'x';
	line[2048] = 0;
	CHECK(load(mem, write_image("cmd", &im), NULL, line, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cmdline: 2048 bytes, the kernel takes at most 2047") != NULL);
	/* The header may claim 4 GiB; the room between 0x20000 and the EBDA is 64 KiB. */
	line[2048] = 'x';
	im.cmdline_size = 0xffffffff;
	CHECK(load(mem, write_image("cmd", &im), NULL, line, err, sizeof(err)) == -1);
	CHECK(strstr(err, "cmdline: 65536 bytes") != NULL);
	CHECK(guards_intact(mem));
	free(line);
	free(mem - GUARD);
}

/* initrd_max - size wrapped for an initrd larger than initrd_addr_max + 1: the placement
 * must be refused before the subtraction, whatever the sizes. */
static void test_initrd_placement(void)
{
	struct image im = good;
	uint8_t *mem = guest_mem();
	char err[ERR_LEN];
	const char *kernel = write_image("k", &im);

	CHECK(load(mem, kernel, sparse_file("huge", 1ULL << 40), NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "plus initrd") && strstr(err, "(1048576 MiB)"));
	/* initrd_addr_max inside the kernel's decompression area */
	im.initrd_addr_max = 0x1000fff;
	kernel = write_image("k2", &im);
	CHECK(load(mem, kernel, sparse_file("small", 0x1000), NULL, err, sizeof(err)) == -1);
	CHECK(strstr(err, "plus initrd") != NULL);
	/* initrd_addr_max 0: an initrd of one byte does not fit below address 1 */
	im.initrd_addr_max = 0;
	kernel = write_image("k3", &im);
	CHECK(load(mem, kernel, sparse_file("one", 1), NULL, err, sizeof(err)) == -1);
	CHECK(guards_intact(mem));
	free(mem - GUARD);
}

/* The topology the issue names: 2 LLCs x 2147483649 cores wrapped to 2 vCPUs, passed the
 * 512 check, and ktstr_bits_for(2147483649) never returned. */
static void test_topology_wrap(void)
{
	struct ktstr_vm_config cfg = { .topo = { 1, 2, 2147483649u, 1 },
				       .memory_mib = 64,
				       .guest_path = "/nonexistent",
				       .console_fd = -1,
				       .com2_fd = -1 };
	struct ktstr_vm_report r;

	alarm(20); /* the old loop: fail by SIGALRM instead of hanging the test */
	CHECK(ktstr_bits_for(0) == 0 && ktstr_bits_for(1) == 0 && ktstr_bits_for(2) == 1);
	CHECK(ktstr_bits_for(3) == 2 && ktstr_bits_for(512) == 9 && ktstr_bits_for(513) == 10);
	CHECK(ktstr_bits_for(0x80000000u) == 31 && ktstr_bits_for(0x80000001u) == 32);
	CHECK(ktstr_bits_for(UINT32_MAX) == 32);
	CHECK(ktstr_vm_run(&cfg, &r) == -1);
	CHECK(r.kind == KTSTR_EXIT_SETUP_ERROR && r.error_errno == E2BIG);
	CHECK(!strcmp(r.message, "topology: 1n2l2147483649c1t is more than 512 vCPUs "
				 "(llcs x cores x threads)"));
	CHECK(ktstr_apic_id(&cfg.topo, 1) == UINT32_MAX);
	/* every product wrapping to exactly 512, 1 and 0 */
	cfg.topo = (struct ktstr_topology){ 1, 1u << 23, 1u << 10, 1u << 8 };
	CHECK(ktstr_vm_run(&cfg, &r) == -1 && r.error_errno == E2BIG);
	cfg.topo = (struct ktstr_topology){ 1, 65537, 65535, 1 };
	CHECK(ktstr_vm_run(&cfg, &r) == -1 && r.error_errno == E2BIG);
	cfg.topo = (struct ktstr_topology){ 1, 65536, 65536, 1 };
	CHECK(ktstr_vm_run(&cfg, &r) == -1 && r.error_errno == E2BIG);
	cfg.topo = (struct ktstr_topology){ 2, 3, 1, 1 };
	CHECK(ktstr_vm_run(&cfg, &r) == -1 && r.error_errno == EINVAL &&
	      strstr(r.message, "llcs divisible by numa_nodes"));
	/* 512 exactly is allowed: the error is then the missing guest file */
	cfg.topo = (struct ktstr_topology){ 1, 8, 32, 2 };
	CHECK(ktstr_vm_run(&cfg, &r) == -1 && r.error_errno != E2BIG);
	alarm(0);
}

/* memory_mib << 20 wrapped: 2^44 + 64 MiB became 64 MiB. */
static void test_memory_wrap(void)
{
	struct ktstr_vm_config cfg = { .topo = { 1, 1, 1, 1 },
				       .memory_mib = (1ULL << 44) + 64,
				       .guest_path = "/nonexistent",
				       .console_fd = -1,
				       .com2_fd = -1 };
	struct ktstr_vm_report r;

	CHECK(ktstr_vm_run(&cfg, &r) == -1 && r.error_errno == EOVERFLOW);
	CHECK(!strcmp(r.message, "memory_mib: more than 2^64 bytes: Value too large for defined "
				 "data type"));
}

/* The builders refuse a topology themselves (the fuzz targets call them directly). */
static void test_builders_refuse(void)
{
	struct ktstr_topology wrap = { 1, 2, 2147483649u, 1 }, ok = { 1, 2, 2, 1 };
	struct kvm_cpuid2 *c = calloc(1,
				      sizeof(*c) + KTSTR_CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	uint8_t *mem = calloc(1, KTSTR_ACPI_END);
	char err[ERR_LEN];
	uint32_t cpus = 0;

	CHECK(ktstr_topology_check(&wrap, &cpus, err, sizeof(err)) == -E2BIG && cpus == 0);
	CHECK(ktstr_acpi_write(mem, 64 << 20, &wrap, err, sizeof(err)) == -1);
	CHECK(strstr(err, "more than 512 vCPUs") != NULL);
	CHECK(ktstr_cpuid_rewrite(c, &wrap, 0, 0, err, sizeof(err)) == -1);
	CHECK(ktstr_cpuid_rewrite(c, &ok, 4, 0, err, sizeof(err)) == -1);
	CHECK(!strcmp(err, "CPUID: vCPU 4 of 4"));
	/* a full list (with KVM's leaves, so the rewrite gets as far as adding): add() had no
	 * room and topo_level wrote through NULL */
	c->nent = KTSTR_CPUID_MAX_ENTRIES;
	for (uint32_t i = 0; i < c->nent; i++)
		c->entries[i].function = 0x80000100 + i; /* no leaf the rewrite looks for */
	c->entries[0] = (struct kvm_cpuid_entry2){
		.function = 0x40000000, .ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d
	};
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 0x40000001 };
	CHECK(ktstr_cpuid_rewrite(c, &ok, 0, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "gave 256 entries, no room") != NULL);
	c->nent = 0;
	CHECK(ktstr_cpuid_rewrite(c, &ok, 0, 0, err, sizeof(err)) == -1);
	CHECK(strstr(err, "no KVM paravirtual leaves") != NULL);
	free(c);
	free(mem);
}

int main(void)
{
	const char *tmp = getenv("TEST_TMPDIR");

	snprintf(dir, sizeof(dir), "%s/inputs_test.XXXXXX", tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror(dir);
		return 1;
	}
	test_good_image_loads();
	test_pref_address_wrap();
	test_setup_sects_past_end();
	test_tiny_memory();
	test_init_size_too_big();
	test_cmdline_too_long();
	test_initrd_placement();
	test_topology_wrap();
	test_memory_wrap();
	test_builders_refuse();
	return check_summary("inputs_test");
}
