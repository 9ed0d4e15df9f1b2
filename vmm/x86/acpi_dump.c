/* SPDX-License-Identifier: GPL-2.0 */
/* --dump-acpi: the tables the VMM would give a guest, as files, found the way a guest finds
 * them (RSDP -> XSDT -> each table; FADT -> DSDT and FACS), so the walk checks the links too. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "x86.h"

static int write_table(const char *dir, const char *sig, const uint8_t *p, uint32_t len)
{
	char path[4096];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%.4s.dat", dir, sig);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "ktstr-vmm: --dump-acpi: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = write(fd, p, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* A table at a guest address, bounds-checked against the ACPI area. */
static const uint8_t *table_at(const uint8_t *mem, uint64_t addr)
{
	if (addr < KTSTR_ACPI_ADDR || addr + 36 > KTSTR_ACPI_END ||
	    addr + ktstr_rd32(mem + addr + 4) > KTSTR_ACPI_END)
		return NULL;
	return mem + addr;
}

int ktstr_acpi_dump(const struct ktstr_topology *topo, uint64_t memory_mib, const char *dir)
{
	uint8_t *mem = calloc(1, KTSTR_ACPI_END);
	const uint8_t *xsdt, *t;
	char err[256];
	uint64_t mem_size;
	uint32_t cpus;
	int rc = 125;

	if (!mem)
		return 125;
	if (ktstr_topology_check(topo, &cpus, err, sizeof(err)) < 0) {
		fprintf(stderr, "ktstr-vmm: %s\n", err);
		goto out;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "ktstr-vmm: --dump-acpi %s: %s\n", dir, strerror(errno));
		goto out;
	}
	if (__builtin_mul_overflow(memory_mib, 1ULL << 20, &mem_size)) {
		fprintf(stderr, "ktstr-vmm: memory_mib: more than 2^64 bytes\n");
		goto out;
	}
	if (ktstr_acpi_write(mem, mem_size, topo, err, sizeof(err)) < 0) {
		fprintf(stderr, "ktstr-vmm: %s\n", err);
		goto out;
	}
	if (write_table(dir, "RSDP", mem + KTSTR_ACPI_ADDR, 36) < 0)
		goto out;
	xsdt = table_at(mem, ktstr_rd64(mem + KTSTR_ACPI_ADDR + 24));
	if (!xsdt || write_table(dir, (const char *)xsdt, xsdt, ktstr_rd32(xsdt + 4)) < 0)
		goto out;
	for (uint32_t off = 36; off + 8 <= ktstr_rd32(xsdt + 4); off += 8) {
		t = table_at(mem, ktstr_rd64(xsdt + off));
		if (!t || write_table(dir, (const char *)t, t, ktstr_rd32(t + 4)) < 0)
			goto out;
		if (!memcmp(t, "FACP", 4)) {
			const uint8_t *dsdt = table_at(mem, ktstr_rd64(t + 140));

			const uint8_t *facs = table_at(mem, ktstr_rd32(t + 36));

			if (!dsdt || write_table(dir, "DSDT", dsdt, ktstr_rd32(dsdt + 4)) < 0)
				goto out;
			if (!facs || write_table(dir, "FACS", facs, ktstr_rd32(facs + 4)) < 0)
				goto out;
		}
	}
	rc = 0;
out:
	free(mem);
	return rc;
}
