/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Build a VM, run it, tear it down:
 *   /dev/kvm -> VM -> (in-kernel irqchip + PIT) -> guest memory (two slots around the 3-4 GiB
 *   MMIO gap) -> boot tables, ACPI, the guest (bzImage or synthetic) -> vCPUs (CPUID per
 *   topology, LAPIC, 64-bit entry for the BSP) -> one thread each -> the watchdog waits for
 *   the end or the timeout -> every thread joined, every fd closed, stats collected.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "kvm_stats.h"
#include "vm.h"
#include "x86/x86.h"

#define STACKS_ADDR 0x200000ULL /* synthetic guests: one 4 KiB stack per vCPU from here */
#define TSS_ADDR 0xfffbd000ULL  /* 3 pages in the MMIO gap that VMX needs for itself */

uint64_t ktstr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* The VM ktstr_vm_run is running, for ktstr_vm_stop: set once it is built, cleared before
 * its teardown (under the lock, so a stop never touches a VM being torn down). */
static pthread_mutex_t running_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vm *running_vm;

int ktstr_vm_stop(void)
{
	int told = 0;

	pthread_mutex_lock(&running_lock);
	if (running_vm) {
		ktstr_end_vm(running_vm, KTSTR_EXIT_STOPPED, -1, "stopped by the host");
		told = 1;
	}
	pthread_mutex_unlock(&running_lock);
	return told;
}

static void on_kick(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

void ktstr_end_vm(struct vm *vm, enum ktstr_exit_kind kind, int32_t status, const char *msg)
{
	pthread_mutex_lock(&vm->lock);
	if (!atomic_load(&vm->ended)) {
		atomic_store(&vm->ended, 1);
		vm->report->kind = kind;
		vm->report->exit_status = status;
		if (msg)
			snprintf(vm->report->message, sizeof(vm->report->message), "%s", msg);
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

uint8_t *ktstr_gpa(struct vm *vm, uint64_t gpa, uint64_t len)
{
	struct ktstr_ram_range ram[2];
	uint64_t host_off = 0;
	int n = ktstr_ram_ranges(vm->mem_size, ram);

	for (int i = 0; i < n; i++) {
		if (gpa >= ram[i].start && gpa + len <= ram[i].start + ram[i].size)
			return vm->mem + host_off + (gpa - ram[i].start);
		host_off += ram[i].size;
	}
	return NULL;
}

static int fail(struct vm *vm, const char *what)
{
	struct ktstr_vm_report *r = vm->report;

	r->kind = KTSTR_EXIT_SETUP_ERROR;
	r->error_errno = errno;
	snprintf(r->message, sizeof(r->message), "%s: %s", what, strerror(errno));
	return -1;
}

static int fail_msg(struct vm *vm, const char *msg)
{
	vm->report->kind = KTSTR_EXIT_SETUP_ERROR;
	snprintf(vm->report->message, sizeof(vm->report->message), "%s", msg);
	return -1;
}

static void set_irq_line(void *ctx, uint32_t irq, int level)
{
	struct vm *vm = ctx;
	struct kvm_irq_level l = { .irq = irq, .level = level };

	if (vm->irqchip)
		ioctl(vm->vm_fd, KVM_IRQ_LINE, &l);
}

static int check_config(struct vm *vm)
{
	const struct ktstr_vm_config *cfg = vm->cfg;
	const struct ktstr_topology *t = &cfg->topo;
	uint64_t mib = cfg->memory_mib ? cfg->memory_mib : 64;
	char err[200];
	int rc = ktstr_topology_check(t, &vm->nr_vcpus, err, sizeof(err));

	if (rc < 0) {
		vm->report->error_errno = -rc;
		return fail_msg(vm, err);
	}
	errno = EINVAL;
	if (!cfg->kernel_path == !cfg->guest_path)
		return fail(vm, "config: set exactly one of kernel_path (bzImage) and guest_path");
	vm->report->vcpus = vm->nr_vcpus;
	if (ktstr_apic_id(t, vm->nr_vcpus - 1) > 254 && cfg->kernel_path) {
		errno = ENOTSUP;
		return fail(vm, "topology: APIC IDs above 254 need x2APIC + split irqchip "
				"(not supported yet); use fewer LLCs/cores/threads");
	}
	/* Checked: memory_mib << 20 wrapped (2^44 + 64 MiB became 64 MiB). */
	if (__builtin_mul_overflow(mib, 1ULL << 20, &vm->mem_size)) {
		errno = EOVERFLOW;
		return fail(vm, "memory_mib: more than 2^64 bytes");
	}
	if (vm->mem_size < STACKS_ADDR + (vm->nr_vcpus + 1) * 0x1000ULL)
		return fail(vm, "memory_mib: too small for the guest and its stacks");
	vm->irqchip = cfg->kernel_path || (cfg->flags & KTSTR_VM_SIPI);
	return 0;
}

static int create_vm(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm->kvm_fd < 0)
		return fail(vm, "open /dev/kvm");
	if (ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		errno = ENOTSUP;
		return fail(vm, "ioctl KVM_GET_API_VERSION (need 12)");
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return fail(vm, "ioctl KVM_CREATE_VM");
	ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, TSS_ADDR); /* needed on VMX; harmless elsewhere */
	if (vm->irqchip && ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return fail(vm, "ioctl KVM_CREATE_IRQCHIP");
	if (vm->cfg->kernel_path && ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return fail(vm, "ioctl KVM_CREATE_PIT2");
	return 0;
}

static int create_memory(struct vm *vm)
{
	struct ktstr_ram_range ram[2];
	uint64_t host_off = 0;
	int n = ktstr_ram_ranges(vm->mem_size, ram);
	struct stat st;

	if (vm->cfg->flags & KTSTR_VM_MEMORY_FD) {
		if (fstat(vm->cfg->memory_fd, &st) < 0)
			return fail(vm, "fstat memory_fd");
		if ((uint64_t)st.st_size < vm->mem_size) {
			errno = EINVAL;
			return fail(vm, "memory_fd is smaller than memory_mib");
		}
		vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			       vm->cfg->memory_fd, 0);
	} else {
		vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	}
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return fail(vm, "mmap guest memory");
	}
	madvise(vm->mem, vm->mem_size, MADV_HUGEPAGE); /* fewer EPT entries; fine if refused */
	for (int i = 0; i < n; i++) {
		struct kvm_userspace_memory_region region = {
			.slot = i,
			.guest_phys_addr = ram[i].start,
			.memory_size = ram[i].size,
			.userspace_addr = (uint64_t)(vm->mem + host_off),
		};

		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
			return fail(vm, "ioctl KVM_SET_USER_MEMORY_REGION");
		host_off += ram[i].size;
	}
	return 0;
}

static int load_synthetic(struct vm *vm, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return fail(vm, path);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > STACKS_ADDR - KTSTR_GUEST_LOAD_ADDR) {
		close(fd);
		errno = EFBIG;
		return fail(vm, path);
	}
	n = read(fd, vm->mem + KTSTR_GUEST_LOAD_ADDR, st.st_size);
	close(fd);
	if (n != st.st_size)
		return fail(vm, path);
	return 0;
}

static int load_guest(struct vm *vm, struct ktstr_entry *entry)
{
	const struct ktstr_vm_config *cfg = vm->cfg;
	char err[256];

	ktstr_write_boot_tables(vm->mem);
	if (ktstr_acpi_write(vm->mem, vm->mem_size, &cfg->topo, err, sizeof(err)) < 0)
		return fail_msg(vm, err);
	memset(entry, 0, sizeof(*entry));
	if (cfg->kernel_path) {
		if (ktstr_load_linux(vm->mem, vm->mem_size, cfg->kernel_path, cfg->initrd_path,
				     cfg->cmdline, &entry->rip, err, sizeof(err)) < 0)
			return fail_msg(vm, err);
		entry->rsi = KTSTR_BOOT_PARAMS_ADDR;
		return 0;
	}
	entry->rip = KTSTR_GUEST_LOAD_ADDR;
	return load_synthetic(vm, cfg->guest_path);
}

static int create_vcpus(struct vm *vm, const struct ktstr_entry *bsp_entry)
{
	char err[200];

	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm->vcpus = calloc(vm->nr_vcpus, sizeof(*vm->vcpus));
	if (!vm->vcpus)
		return fail(vm, "calloc vCPUs");
	for (uint32_t i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i].fd = -1;
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct kvm_cpuid2 *cpuid;
		struct ktstr_entry entry = *bsp_entry;

		v->vm = vm;
		v->index = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, ktstr_apic_id(&vm->cfg->topo, i));
		if (v->fd < 0)
			return fail(vm, "ioctl KVM_CREATE_VCPU");
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			return fail(vm, "mmap kvm_run");
		}
		cpuid = ktstr_cpuid_for(vm->kvm_fd, &vm->cfg->topo, i, err, sizeof(err));
		if (!cpuid)
			return fail_msg(vm, err);
		if (ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0) {
			free(cpuid);
			return fail(vm, "ioctl KVM_SET_CPUID2");
		}
		free(cpuid);
		if (vm->irqchip && ktstr_setup_lapic(v->fd, err, sizeof(err)) < 0)
			return fail_msg(vm, err);
		/* With the in-kernel LAPIC, APs sit in wait-for-SIPI until the BSP starts them. */
		if (vm->irqchip && i > 0)
			continue;
		entry.rsp = vm->cfg->guest_path ? STACKS_ADDR + (i + 1) * 0x1000ULL : 0;
		entry.rdi = vm->cfg->guest_path ? i : 0; /* synthetic guests: rdi = vCPU index */
		if (ktstr_setup_long_mode(v->fd, &entry, err, sizeof(err)) < 0)
			return fail_msg(vm, err);
	}
	return 0;
}

static void stop_vcpus(struct vm *vm)
{
	for (uint32_t i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			v->run->immediate_exit = 1;
		if (v->started)
			pthread_kill(v->thread, SIGUSR1);
	}
}

static void teardown(struct vm *vm)
{
	for (uint32_t i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		if (v->fd >= 0)
			ktstr_stats_add_vcpu(v->fd, vm->report);
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd >= 0)
			close(v->fd);
	}
	/* Once every vCPU is gone: the UARTs' last partial lines go out here. */
	pio_devices_exit(&vm->dev);
	free(vm->vcpus);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
}

static void wait_for_end(struct vm *vm)
{
	pthread_mutex_lock(&vm->lock);
	if (vm->cfg->timeout_ms) {
		struct timespec deadline;
		uint64_t at = ktstr_now_ns() + (uint64_t)vm->cfg->timeout_ms * 1000000ULL;

		deadline.tv_sec = at / 1000000000ULL;
		deadline.tv_nsec = at % 1000000000ULL;
		while (!atomic_load(&vm->ended))
			if (pthread_cond_timedwait(&vm->cond, &vm->lock, &deadline) == ETIMEDOUT)
				break;
	} else {
		while (!atomic_load(&vm->ended))
			pthread_cond_wait(&vm->cond, &vm->lock);
	}
	pthread_mutex_unlock(&vm->lock);
	ktstr_end_vm(vm, KTSTR_EXIT_TIMEOUT, -1, "timeout: the guest did not finish in time");
}

static int init_devices(struct vm *vm)
{
	const struct pio_env env = {
		.nr_vcpus = vm->nr_vcpus,
		.com1_fd = vm->cfg->console_fd,
		.com2_fd = vm->cfg->com2_fd,
		/* Synthetic guests print from every vCPU at once: a line buffer each. */
		.com1_buffers = vm->cfg->guest_path ? vm->nr_vcpus : 1,
		.set_irq = set_irq_line,
		.irq_ctx = vm,
		.now_ns = ktstr_now_ns,
	};
	const char *failed = "";
	char what[96];

	if (pio_devices_init(&vm->dev, &vm->pio, &env, &failed) == 0)
		return 0;
	snprintf(what, sizeof(what), "port-I/O device %s (its state, or its port range)", failed);
	return fail(vm, what);
}

int ktstr_vm_run(const struct ktstr_vm_config *cfg, struct ktstr_vm_report *report)
{
	struct vm vm = { .cfg = cfg, .kvm_fd = -1, .vm_fd = -1, .report = report };
	struct sigaction sa = { .sa_handler = on_kick };
	struct ktstr_entry entry;
	pthread_condattr_t cattr;
	uint64_t start = ktstr_now_ns();
	int rc = -1;

	memset(report, 0, sizeof(*report));
	pthread_mutex_init(&vm.lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC); /* the watchdog's deadline clock */
	pthread_cond_init(&vm.cond, &cattr);
	pthread_condattr_destroy(&cattr);
	if (check_config(&vm) < 0 || init_devices(&vm) < 0)
		goto out;
	sigaction(SIGUSR1, &sa, NULL);
	if (create_vm(&vm) < 0 || create_memory(&vm) < 0 || load_guest(&vm, &entry) < 0 ||
	    create_vcpus(&vm, &entry) < 0)
		goto out;
	pthread_mutex_lock(&running_lock);
	running_vm = &vm;
	pthread_mutex_unlock(&running_lock);
	for (uint32_t i = 0; i < vm.nr_vcpus; i++) {
		if (pthread_create(&vm.vcpus[i].thread, NULL, ktstr_vcpu_loop, &vm.vcpus[i]) != 0) {
			ktstr_end_vm(&vm, KTSTR_EXIT_SETUP_ERROR, -1,
				     "pthread_create for a vCPU failed");
			break;
		}
		vm.vcpus[i].started = 1;
	}
	wait_for_end(&vm);
	pthread_mutex_lock(&running_lock);
	running_vm = NULL;
	pthread_mutex_unlock(&running_lock);
	stop_vcpus(&vm);
	rc = 0;
out:
	report->setup_ns = vm.first_run_ns ? vm.first_run_ns - start : 0;
	teardown(&vm);
	report->run_ns = ktstr_now_ns() - start - report->setup_ns;
	return rc;
}

uint32_t ktstr_vmm_abi_size(uint32_t which)
{
	return which == 0 ? sizeof(struct ktstr_vm_config) : sizeof(struct ktstr_vm_report);
}
