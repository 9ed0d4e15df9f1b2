/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libFuzzer target: the ACPI builder (x86/acpi.c) from topology parameters and a RAM size,
 * into a malloc'd copy of the first MiB, no KVM. Input: [topology][memory bytes u64]. A
 * topology the check refuses must be refused by the builder too; for the rest, the tables
 * are walked the way a guest walks them: every table inside the ACPI area, every checksum
 * zero, one MADT entry per vCPU with distinct APIC IDs, SRAT covering all of RAM once.
 */
#include "../x86/x86.h"
#include "fuzz.h"
#include "topology_input.h"

/* The table at a guest address, checked to lie in the ACPI area with a zero checksum. */
static const uint8_t *table(const uint8_t *mem, uint64_t addr)
{
	uint8_t sum = 0;
	uint32_t len;

	FUZZ_ASSERT(addr >= KTSTR_ACPI_ADDR && addr + 36 <= KTSTR_ACPI_END);
	len = ktstr_rd32(mem + addr + 4);
	FUZZ_ASSERT(len >= 36 && addr + len <= KTSTR_ACPI_END);
	for (uint32_t i = 0; i < len; i++)
		sum += mem[addr + i];
	FUZZ_ASSERT(sum == 0);
	return mem + addr;
}

static void check_madt(const uint8_t *t, uint32_t cpus)
{
	static uint8_t seen[1u << 16];
	uint32_t n = 0, len = ktstr_rd32(t + 4);

	memset(seen, 0, sizeof(seen));
	for (uint32_t off = 44; off < len; off += t[off + 1]) {
		uint32_t apic = 0;

		FUZZ_ASSERT(t[off + 1] >= 2 && off + t[off + 1] <= len);
		if (t[off] == 0)
			apic = t[off + 3];
		else if (t[off] == 9)
			apic = ktstr_rd32(t + off + 4);
		else
			continue;
		FUZZ_ASSERT(apic < sizeof(seen) && !seen[apic]);
		seen[apic] = 1;
		n++;
	}
	FUZZ_ASSERT(n == cpus);
}

static void check_srat(const uint8_t *t, uint64_t mem_size, uint32_t nodes)
{
	uint64_t ram = 0;
	uint32_t len = ktstr_rd32(t + 4);

	for (uint32_t off = 48; off < len; off += t[off + 1]) {
		FUZZ_ASSERT(t[off + 1] >= 2 && off + t[off + 1] <= len);
		if (t[off] == 1) { /* memory affinity */
			FUZZ_ASSERT(ktstr_rd32(t + off + 2) < nodes);
			ram += ktstr_rd64(t + off + 16);
		}
	}
	FUZZ_ASSERT(ram == mem_size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static uint8_t *mem;
	struct fuzz_input in = { data, len, 0 };
	struct ktstr_topology t = fuzz_topology(&in);
	uint64_t mem_size = fuzz_u64(&in);
	const uint8_t *xsdt;
	uint32_t cpus;
	char err[256];
	int ok;

	if (!mem)
		mem = malloc(KTSTR_ACPI_END);
	FUZZ_ASSERT(mem);
	ok = ktstr_topology_check(&t, &cpus, err, sizeof(err)) == 0;
	if (ktstr_acpi_write(mem, mem_size, &t, err, sizeof(err)) < 0) {
		FUZZ_ASSERT(err[0]);
		return 0;
	}
	FUZZ_ASSERT(ok); /* the builder took what the check refuses */
	FUZZ_ASSERT(!memcmp(mem + KTSTR_ACPI_ADDR, "RSD PTR ", 8));
	xsdt = table(mem, ktstr_rd64(mem + KTSTR_ACPI_ADDR + 24));
	for (uint32_t off = 36; off + 8 <= ktstr_rd32(xsdt + 4); off += 8) {
		const uint8_t *tb = table(mem, ktstr_rd64(xsdt + off));

		if (!memcmp(tb, "FACP", 4))
			table(mem, ktstr_rd64(tb + 140)); /* the DSDT */
		else if (!memcmp(tb, "APIC", 4))
			check_madt(tb, cpus);
		else if (!memcmp(tb, "SRAT", 4))
			check_srat(tb, mem_size, t.numa_nodes);
	}
	return 0;
}
