/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KTSTR_KVM_STATS_H
#define KTSTR_KVM_STATS_H

#include "include/ktstr_vmm.h"

/* Add this vCPU's counters to the report's sums (no-op where KVM has no stats fd). */
void ktstr_stats_add_vcpu(int vcpu_fd, struct ktstr_vm_report *r);

#endif
