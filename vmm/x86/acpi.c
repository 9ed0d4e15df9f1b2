/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ACPI tables describing the VM, written into guest memory at KTSTR_ACPI_ADDR (the BIOS area
 * Linux also scans for the RSDP; boot_params.acpi_rsdp_addr points there directly):
 *
 *   RSDP (rev 2) -> XSDT -> FACP  (rev 6, a PC with fixed hardware: PM1a event/control
 *                           blocks for S5 power-off, the PM timer, SCI on IRQ 9 (never
 *                           raised), no SMI port (ACPI mode from the start); reset register
 *                           = i8042 0x64/0xfe) -> DSDT (\_S5 only), FACS
 *                           Not hardware-reduced: in that mode Linux drops the legacy PIC
 *                           and with it every ISA IRQ, so the 16550s' IRQs 4 and 3 would
 *                           never reach their driver (and the PIT would not be set up).
 *                        -> APIC  (MADT: one Local APIC, or x2APIC above ID 254, per vCPU;
 *                           the IOAPIC; LINT1 = NMI)
 *                        -> SRAT  (every APIC ID and an even, 2 MiB-aligned share of RAM
 *                           per NUMA node)
 *                        -> SLIT  (10 local, 20 remote)
 *
 * Tables are built with explicit little-endian writers (x86 is little-endian, but the
 * offsets stay visible and checkable against the spec). Every checksum makes its table sum
 * to zero.
 */
#include <stdio.h>
#include <string.h>
#include "../devices/acpi_pm1.h"
#include "../devices/pm_timer.h"
#include "x86.h"

#define OEM_ID "KTSTR "
#define OEM_TABLE_ID "KTSTRVMM"
#define CREATOR_ID "KTVM"
#define HEADER_LEN 36

#define FADT_LEN 276
#define FADT_REVISION 6
#define FADT_F_WBINVD (1u << 0)      /* WBINVD works (required) */
#define FADT_F_PWR_BUTTON (1u << 4)  /* no fixed power button */
#define FADT_F_SLP_BUTTON (1u << 5)  /* no fixed sleep button */
#define FADT_F_TMR_VAL_EXT (1u << 8) /* the PM timer has 32 bits */
#define FADT_F_RESET_REG_SUP (1u << 10)
#define IAPC_VGA_NOT_PRESENT (1u << 2)
#define SCI_IRQ 9
#define CMOS_CENTURY 0x32
#define FACS_LEN 64

#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

#define MADT_PCAT_COMPAT 1u
#define MADT_LOCAL_APIC 0
#define MADT_IOAPIC 1
#define MADT_LOCAL_APIC_NMI 4
#define MADT_LOCAL_X2APIC 9
#define ENABLED 1u

#define SRAT_CPU_AFFINITY 0
#define SRAT_MEMORY_AFFINITY 1
#define SRAT_X2APIC_AFFINITY 2

#define NODE_ALIGN (2ULL << 20)
#define MAX_XAPIC_ID 254

/* A growing table in guest memory. */
struct table {
	uint8_t *base;
	uint32_t len;
};

static void w8(struct table *t, uint8_t v)
{
	t->base[t->len++] = v;
}
static void w16(struct table *t, uint16_t v)
{
	w8(t, v & 0xff);
	w8(t, v >> 8);
}
static void w32(struct table *t, uint32_t v)
{
	w16(t, v & 0xffff);
	w16(t, v >> 16);
}
static void w64(struct table *t, uint64_t v)
{
	w32(t, (uint32_t)v);
	w32(t, v >> 32);
}
static void wbytes(struct table *t, const void *p, uint32_t n)
{
	memcpy(t->base + t->len, p, n);
	t->len += n;
}
static void put32_at(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint8_t checksum(const uint8_t *p, uint32_t len)
{
	uint8_t sum = 0;

	for (uint32_t i = 0; i < len; i++)
		sum += p[i];
	return (uint8_t)-sum;
}

static void header(struct table *t, const char *sig, uint8_t revision)
{
	wbytes(t, sig, 4);
	w32(t, 0); /* length: filled in by finish() */
	w8(t, revision);
	w8(t, 0);  /* checksum: finish() */
	wbytes(t, OEM_ID, 6);
	wbytes(t, OEM_TABLE_ID, 8);
	w32(t, 1); /* OEM revision */
	wbytes(t, CREATOR_ID, 4);
	w32(t, 1); /* creator revision */
}

static void finish(struct table *t)
{
	put32_at(t->base + 4, t->len);
	t->base[9] = checksum(t->base, t->len);
}

/* Generic Address Structure: a register of bits width in I/O space. */
static void gas_io(struct table *t, uint16_t port, uint8_t bits)
{
	w8(t, GAS_SYSTEM_IO);
	w8(t, bits); /* bit width */
	w8(t, 0);    /* bit offset */
	w8(t, bits == 8 ? GAS_ACCESS_BYTE : bits == 16 ? GAS_ACCESS_WORD : GAS_ACCESS_DWORD);
	w64(t, port);
}

static void gas_none(struct table *t)
{
	for (int i = 0; i < 12; i++)
		w8(t, 0);
}

static void build_dsdt(struct table *t)
{
	/* Name (_S5, Package (4) { 5, 0, 0, 0 }): the SLP_TYP values for power-off. */
	/* clang-format off */
	static const uint8_t s5[] = {
		0x08, '_', 'S', '5', '_',     /* NameOp "_S5_" */
		0x12, 0x07, 0x04,             /* PackageOp, PkgLength 7, 4 elements */
		0x0a, KTSTR_ACPI_S5_SLP_TYP,  /* BytePrefix 5 */
		0x00, 0x00, 0x00,             /* ZeroOp x3 */
	};
	/* clang-format on */

	header(t, "DSDT", 2);
	wbytes(t, s5, sizeof(s5));
	finish(t);
}

/* The firmware control structure: required outside hardware-reduced mode; all zero but its
 * signature, length and version (no waking vector, no global lock). */
static void build_facs(struct table *t)
{
	wbytes(t, "FACS", 4);
	w32(t, FACS_LEN);
	w32(t, 0); /* hardware signature */
	w32(t, 0); /* firmware waking vector */
	w32(t, 0); /* global lock */
	w32(t, 0); /* flags */
	w64(t, 0); /* X firmware waking vector */
	w8(t, 2);  /* version */
	while (t->len < FACS_LEN)
		w8(t, 0);
}

static void build_fadt(struct table *t, uint64_t dsdt, uint64_t facs)
{
	header(t, "FACP", FADT_REVISION);
	w32(t, (uint32_t)facs);               /* 36 FIRMWARE_CTRL */
	w32(t, (uint32_t)dsdt);               /* 40 DSDT */
	w8(t, 0);                             /* 44 reserved */
	w8(t, 0);                             /* 45 preferred PM profile: unspecified */
	w16(t, SCI_IRQ);                      /* 46 SCI_INT */
	w32(t, 0);                            /* 48 SMI_CMD: none, always in ACPI mode */
	w32(t, 0);                            /* 52 ACPI_ENABLE/DISABLE, S4BIOS_REQ, PSTATE */
	w32(t, KTSTR_ACPI_PM1_EVT_PORT);      /* 56 PM1a_EVT_BLK */
	w32(t, 0);                            /* 60 PM1b_EVT_BLK */
	w32(t, KTSTR_ACPI_PM1_CNT_PORT);      /* 64 PM1a_CNT_BLK */
	w32(t, 0);                            /* 68 PM1b_CNT_BLK */
	w32(t, 0);                            /* 72 PM2_CNT_BLK */
	w32(t, KTSTR_PM_TIMER_PORT);          /* 76 PM_TMR_BLK */
	w32(t, 0);                            /* 80 GPE0_BLK */
	w32(t, 0);                            /* 84 GPE1_BLK */
	w8(t, KTSTR_ACPI_PM1_EVT_LEN);        /* 88 PM1_EVT_LEN */
	w8(t, KTSTR_ACPI_PM1_CNT_LEN);        /* 89 PM1_CNT_LEN */
	w8(t, 0);                             /* 90 PM2_CNT_LEN */
	w8(t, KTSTR_PM_TIMER_LEN);            /* 91 PM_TMR_LEN */
	w32(t, 0);                            /* 92 GPE0/1_BLK_LEN, GPE1_BASE, CST_CNT */
	w16(t, 101);                          /* 96 P_LVL2_LAT: > 100, no C2 */
	w16(t, 1001);                         /* 98 P_LVL3_LAT: > 1000, no C3 */
	while (t->len < 108)                  /* 100..107: flush, duty cycle, RTC alarms */
		w8(t, 0);
	w8(t, CMOS_CENTURY);                  /* 108 CENTURY: the CMOS register */
	w16(t, IAPC_VGA_NOT_PRESENT);         /* 109 IA-PC boot architecture flags */
	w8(t, 0);                             /* 111 reserved */
	w32(t, FADT_F_WBINVD | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON | FADT_F_TMR_VAL_EXT |
		       FADT_F_RESET_REG_SUP); /* 112 flags */
	gas_io(t, 0x64, 8);                   /* 116 RESET_REG: the i8042 command port */
	w8(t, 0xfe);                          /* 128 RESET_VALUE: pulse reset */
	w16(t, 0);                            /* 129 ARM boot architecture */
	w8(t, 0);                             /* 131 FADT minor version */
	w64(t, 0);                            /* 132 X_FIRMWARE_CTRL: FIRMWARE_CTRL says */
	w64(t, dsdt);                         /* 140 X_DSDT */
	gas_io(t, KTSTR_ACPI_PM1_EVT_PORT, 8 * KTSTR_ACPI_PM1_EVT_LEN); /* 148 X_PM1a_EVT_BLK */
	gas_none(t);                                                    /* 160 X_PM1b_EVT_BLK */
	gas_io(t, KTSTR_ACPI_PM1_CNT_PORT, 8 * KTSTR_ACPI_PM1_CNT_LEN); /* 172 X_PM1a_CNT_BLK */
	gas_none(t);                                                    /* 184 X_PM1b_CNT_BLK */
	gas_none(t);                                                    /* 196 X_PM2_CNT_BLK */
	gas_io(t, KTSTR_PM_TIMER_PORT, 8 * KTSTR_PM_TIMER_LEN);         /* 208 X_PM_TMR_BLK */
	gas_none(t);                                                    /* 220 X_GPE0_BLK */
	gas_none(t);                                                    /* 232 X_GPE1_BLK */
	gas_none(t);              /* 244 SLEEP_CONTROL_REG: hardware-reduced only */
	gas_none(t);              /* 256 SLEEP_STATUS_REG */
	wbytes(t, "KTSTRVMM", 8); /* 268 hypervisor vendor identity */
	finish(t);
}

static uint32_t node_of_cpu(const struct ktstr_topology *topo, uint32_t cpu)
{
	uint32_t per_llc = topo->cores_per_llc * topo->threads_per_core;

	return (cpu / per_llc) / (topo->llcs / topo->numa_nodes);
}

static void build_madt(struct table *t, const struct ktstr_topology *topo, uint32_t cpus)
{
	header(t, "APIC", 5);
	w32(t, (uint32_t)KTSTR_LAPIC_ADDR);
	w32(t, MADT_PCAT_COMPAT); /* there are 8259s (KVM's in-kernel PIC) */
	for (uint32_t cpu = 0; cpu < cpus; cpu++) {
		uint32_t apic = ktstr_apic_id(topo, cpu);

		if (apic <= MAX_XAPIC_ID) {
			w8(t, MADT_LOCAL_APIC);
			w8(t, 8);
			w8(t, (uint8_t)cpu); /* ACPI processor UID */
			w8(t, (uint8_t)apic);
			w32(t, ENABLED);
		} else {
			w8(t, MADT_LOCAL_X2APIC);
			w8(t, 16);
			w16(t, 0);
			w32(t, apic);
			w32(t, ENABLED);
			w32(t, cpu); /* ACPI processor UID */
		}
	}
	w8(t, MADT_IOAPIC);
	w8(t, 12);
	w8(t, 0); /* IOAPIC ID (KVM's reads 0) */
	w8(t, 0);
	w32(t, (uint32_t)KTSTR_IOAPIC_ADDR);
	w32(t, 0); /* GSI base; ISA IRQs map 1:1, no overrides */
	w8(t, MADT_LOCAL_APIC_NMI);
	w8(t, 6);
	w8(t, 0xff); /* all processors */
	w16(t, 0);   /* flags: conforming */
	w8(t, 1);    /* LINT1 */
	finish(t);
}

static void memory_affinity(struct table *t, uint32_t node, uint64_t base, uint64_t len)
{
	w8(t, SRAT_MEMORY_AFFINITY);
	w8(t, 40);
	w32(t, node); /* proximity domain */
	w16(t, 0);
	w64(t, base);
	w64(t, len);
	w32(t, 0);
	w32(t, ENABLED);
	w64(t, 0);
}

/* Node n gets RAM offsets [n * share, (n + 1) * share) (the last one the rest), mapped to
 * guest physical addresses around the MMIO gap: a node spanning the gap gets two entries. */
static void build_srat(struct table *t, const struct ktstr_topology *topo, uint32_t cpus,
		       uint64_t mem_size)
{
	struct ktstr_ram_range ram[2];
	int nr_ram = ktstr_ram_ranges(mem_size, ram);
	uint64_t share = (mem_size / topo->numa_nodes) & ~(NODE_ALIGN - 1);

	header(t, "SRAT", 3);
	w32(t, 1); /* reserved, 1 for compatibility */
	w64(t, 0);
	for (uint32_t cpu = 0; cpu < cpus; cpu++) {
		uint32_t apic = ktstr_apic_id(topo, cpu), node = node_of_cpu(topo, cpu);

		if (apic <= MAX_XAPIC_ID) {
			w8(t, SRAT_CPU_AFFINITY);
			w8(t, 16);
			w8(t, node & 0xff); /* proximity domain [7:0] */
			w8(t, (uint8_t)apic);
			w32(t, ENABLED);
			w8(t, 0); /* local SAPIC EID */
			w8(t, (node >> 8) & 0xff);
			w8(t, (node >> 16) & 0xff);
			w8(t, (node >> 24) & 0xff);
			w32(t, 0); /* clock domain */
		} else {
			w8(t, SRAT_X2APIC_AFFINITY);
			w8(t, 24);
			w16(t, 0);
			w32(t, node);
			w32(t, apic);
			w32(t, ENABLED);
			w32(t, 0);
			w32(t, 0);
		}
	}
	for (uint32_t node = 0; node < topo->numa_nodes; node++) {
		uint64_t from = node * share;
		uint64_t to = node == topo->numa_nodes - 1 ? mem_size : from + share;
		uint64_t off = 0;

		for (int i = 0; i < nr_ram; i++) {
			uint64_t lo = from > off ? from : off;
			uint64_t hi = to < off + ram[i].size ? to : off + ram[i].size;

			if (lo < hi)
				memory_affinity(t, node, ram[i].start + (lo - off), hi - lo);
			off += ram[i].size;
		}
	}
	finish(t);
}

static void build_slit(struct table *t, uint32_t nodes)
{
	header(t, "SLIT", 1);
	w64(t, nodes);
	for (uint32_t i = 0; i < nodes; i++)
		for (uint32_t j = 0; j < nodes; j++)
			w8(t, i == j ? 10 : 20);
	finish(t);
}

/* Upper bound of the bytes one topology's tables need (MADT and SRAT grow per vCPU). */
static uint64_t space_needed(const struct ktstr_topology *topo, uint32_t cpus)
{
	return 36 + 16 + HEADER_LEN + 8 * 4 + FADT_LEN + FACS_LEN + 64 + HEADER_LEN + 16 +
	       HEADER_LEN + 8 + 16ULL * cpus + 12 + 6 + HEADER_LEN + 12 + 24ULL * cpus +
	       40ULL * 2 * topo->numa_nodes + HEADER_LEN + 8 +
	       (uint64_t)topo->numa_nodes * topo->numa_nodes + 7 * 16;
}

int ktstr_acpi_write(uint8_t *mem, uint64_t mem_size, const struct ktstr_topology *topo, char *err,
		     size_t errlen)
{
	uint32_t cpus;
	uint64_t at = KTSTR_ACPI_ADDR, xsdt_addr, tables[4];
	uint8_t *rsdp = mem + KTSTR_ACPI_ADDR;
	struct table t;

	/* The vCPU count and every ID below are only defined for a checked topology. */
	if (ktstr_topology_check(topo, &cpus, err, errlen) < 0)
		return -1;
	if (space_needed(topo, cpus) > KTSTR_ACPI_END - KTSTR_ACPI_ADDR) {
		snprintf(err, errlen,
			 "topology: %u vCPUs x %u NUMA nodes do not fit the ACPI tables "
			 "in the %llu KiB below 1 MiB",
			 cpus, topo->numa_nodes,
			 (unsigned long long)((KTSTR_ACPI_END - KTSTR_ACPI_ADDR) >> 10));
		return -1;
	}
	memset(mem + KTSTR_ACPI_ADDR, 0, KTSTR_ACPI_END - KTSTR_ACPI_ADDR);
#define NEXT_TABLE() (at = (at + t.len + 15) & ~15ULL, t.base = mem + at, t.len = 0)
	t.base = rsdp;
	t.len = 36; /* the RSDP, written last */
	NEXT_TABLE();
	xsdt_addr = at;
	t.len = HEADER_LEN + 8 * 4; /* the XSDT, written once the rest is placed */
	NEXT_TABLE();
	build_dsdt(&t);
	{
		uint64_t dsdt = at, facs;

		NEXT_TABLE();
		at = (at + 63) & ~63ULL; /* the FACS is 64-byte aligned */
		t.base = mem + at;
		facs = at;
		build_facs(&t);
		NEXT_TABLE();
		tables[0] = at;
		build_fadt(&t, dsdt, facs);
	}
	NEXT_TABLE();
	tables[1] = at;
	build_madt(&t, topo, cpus);
	NEXT_TABLE();
	tables[2] = at;
	build_srat(&t, topo, cpus, mem_size);
	NEXT_TABLE();
	tables[3] = at;
	build_slit(&t, topo->numa_nodes);
#undef NEXT_TABLE

	t.base = mem + xsdt_addr;
	t.len = 0;
	header(&t, "XSDT", 1);
	for (int i = 0; i < 4; i++)
		w64(&t, tables[i]);
	finish(&t);

	t.base = rsdp;
	t.len = 0;
	wbytes(&t, "RSD PTR ", 8);
	w8(&t, 0);  /* checksum of the first 20 bytes */
	wbytes(&t, OEM_ID, 6);
	w8(&t, 2);  /* revision: ACPI 2.0+ */
	w32(&t, 0); /* no RSDT */
	w32(&t, 36);
	w64(&t, xsdt_addr);
	w8(&t, 0); /* extended checksum */
	w8(&t, 0);
	w16(&t, 0);
	rsdp[8] = checksum(rsdp, 20);
	rsdp[32] = checksum(rsdp, 36);
	return 0;
}
