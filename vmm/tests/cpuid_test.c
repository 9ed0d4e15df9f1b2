/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CPUID rewrites that need no KVM: the AMD family/model the guest gets (Linux takes the LLC
 * from 0x8000001D only from family 17h model 0x20 on). Built with ASan and UBSan.
 */
#include <stdio.h>
#include "../x86/x86.h"
#include "check.h"

/* Leaf 1 EAX from family/model/stepping, as CPUs encode it. */
static uint32_t signature(uint32_t family, uint32_t model, uint32_t stepping)
{
	uint32_t base = family < 0xf ? family : 0xf, ext = family < 0xf ? 0 : family - 0xf;

	return ext << 20 | (model >> 4) << 16 | base << 8 | (model & 0xf) << 4 | stepping;
}

int main(void)
{
	/* kept: families whose LLC Linux takes from 0x8000001D */
	CHECK(ktstr_amd_signature(signature(0x19, 0x11, 1)) == 0x00a10f11); /* this host: Genoa */
	CHECK(ktstr_amd_signature(signature(0x17, 0x31, 0)) == signature(0x17, 0x31, 0)); /* Rome */
	CHECK(ktstr_amd_signature(signature(0x1a, 0x02, 0)) == signature(0x1a, 0x02, 0));
	/* rewritten: LLC = node (family < 17h) or APIC ID >> 3 (17h models up to 0x1F) */
	CHECK(ktstr_amd_signature(signature(0xf, 0x6b, 1)) ==
	      KTSTR_AMD_FAMILY_19H_SIGNATURE); /* TCG max */
	CHECK(ktstr_amd_signature(signature(0x10, 0x02, 0)) == KTSTR_AMD_FAMILY_19H_SIGNATURE);
	CHECK(ktstr_amd_signature(signature(0x17, 0x01, 1)) ==
	      KTSTR_AMD_FAMILY_19H_SIGNATURE); /* Naples */
	CHECK(ktstr_amd_signature(signature(0x17, 0x1f, 0)) == KTSTR_AMD_FAMILY_19H_SIGNATURE);
	CHECK(signature(0x19, 0x01, 1) == KTSTR_AMD_FAMILY_19H_SIGNATURE);
	/* the L3 Linux needs to see before it looks for LLCs at all */
	CHECK((KTSTR_AMD_L3_INFO >> 18) == 64 && (KTSTR_AMD_L3_INFO & 0xff) == 64);
	return check_summary("cpuid_test");
}
