/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-vCPU KVM statistics through the binary stats interface (KVM_GET_STATS_FD, Linux 5.14+):
 * a header, descriptors naming each counter, then the data. A few counters that explain how
 * a run went (exits by cause, interrupt injections, emulated instructions) are summed over
 * the vCPUs into the report. Kernels without the interface just leave the list empty.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>
#include "kvm_stats.h"

static const char *const wanted[KTSTR_MAX_STATS] = {
	"exits",          "io_exits",       "mmio_exits",          "irq_exits",
	"halt_exits",     "signal_exits",   "irq_window_exits",    "irq_injections",
	"nmi_injections", "insn_emulation", "insn_emulation_fail", "halt_wakeup",
};

static void add(struct ktstr_vm_report *r, const char *name, uint64_t value)
{
	uint32_t i;

	for (i = 0; i < r->nr_stats; i++)
		if (!strcmp(r->stats[i].name, name))
			break;
	if (i == r->nr_stats) {
		if (r->nr_stats == KTSTR_MAX_STATS)
			return;
		r->nr_stats++;
		snprintf(r->stats[i].name, sizeof(r->stats[i].name), "%.47s", name);
	}
	r->stats[i].value += value;
}

static int is_wanted(const char *name)
{
	for (int i = 0; i < KTSTR_MAX_STATS; i++)
		if (!strcmp(wanted[i], name))
			return 1;
	return 0;
}

void ktstr_stats_add_vcpu(int vcpu_fd, struct ktstr_vm_report *r)
{
	struct kvm_stats_header h;
	size_t desc_size;
	char *descs = NULL;
	int fd = ioctl(vcpu_fd, KVM_GET_STATS_FD, NULL);

	if (fd < 0)
		return;
	if (pread(fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc > 4096 || h.name_size > 256)
		goto out;
	desc_size = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = malloc(desc_size * h.num_desc);
	if (!descs || pread(fd, descs, desc_size * h.num_desc, h.desc_offset) !=
			      (ssize_t)(desc_size * h.num_desc))
		goto out;
	for (uint32_t i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * desc_size);
		char name[257];
		uint64_t value;

		memcpy(name, d->name, h.name_size);
		name[h.name_size] = 0;
		if (d->size != 1 || !is_wanted(name))
			continue;
		if (pread(fd, &value, sizeof(value), h.data_offset + d->offset) == sizeof(value))
			add(r, name, value);
	}
out:
	free(descs);
	close(fd);
}
