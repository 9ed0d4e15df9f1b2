/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The VM: /dev/kvm -> VM -> guest memory -> one thread per vCPU, each entering the guest in
 * 64-bit mode with its own CPUID; port I/O to COM1 and the debug-exit port handled here.
 * The VM ends when a vCPU writes the debug-exit port, when every vCPU has halted, on a
 * shutdown or internal error, or at the timeout; every path joins the threads and closes
 * every fd.
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
#include "devices/serial8250.h"
#include "x86/x86.h"

#define STACKS_ADDR 0x200000ULL /* one 4 KiB stack per vCPU from here */

struct vm;

struct vcpu {
	struct vm *vm;
	uint32_t index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	int started;
};

struct vm {
	int kvm_fd, vm_fd;
	uint8_t *mem;
	uint64_t mem_size;
	size_t run_size;
	uint32_t nr_vcpus;
	struct vcpu *vcpus;
	struct serial8250 com1;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int ended;
	uint32_t halted;
	uint64_t first_run_ns;
	struct ktstr_vm_report *report;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static void on_kick(int sig)
{
	(void)sig; /* only interrupts KVM_RUN */
}

/* Record how the VM ended (first reason wins) and wake everyone. */
static void end_vm(struct vm *vm, enum ktstr_exit_kind kind, int32_t status, uint64_t rip,
		   const char *msg)
{
	pthread_mutex_lock(&vm->lock);
	if (!vm->ended) {
		vm->ended = 1;
		vm->report->kind = kind;
		vm->report->exit_status = status;
		vm->report->rip = rip;
		if (msg)
			snprintf(vm->report->message, sizeof(vm->report->message), "%s", msg);
	}
	pthread_cond_broadcast(&vm->cond);
	pthread_mutex_unlock(&vm->lock);
}

static uint64_t vcpu_rip(struct vcpu *v)
{
	struct kvm_regs regs;

	return ioctl(v->fd, KVM_GET_REGS, &regs) == 0 ? regs.rip : 0;
}

static int handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	int is_write = run->io.direction == KVM_EXIT_IO_OUT;

	for (uint32_t i = 0; i < run->io.count; i++, data += run->io.size) {
		if (run->io.port == KTSTR_DEBUG_EXIT_PORT && is_write) {
			serial8250_flush(&v->vm->com1, v->index);
			end_vm(v->vm, KTSTR_EXIT_DEBUG_PORT, data[0], 0, NULL);
			return 1;
		}
		if (!serial8250_io(&v->vm->com1, v->index, run->io.port, is_write, data) && !is_write)
			memset(data, 0xff, run->io.size); /* no device: reads float high */
	}
	return 0;
}

static void *vcpu_loop(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char msg[200];

	for (;;) {
		if (vm->ended)
			break;
		if (!vm->first_run_ns) /* the first vCPU to enter the guest stamps it */
			__sync_bool_compare_and_swap(&vm->first_run_ns, 0, now_ns());
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(msg, sizeof(msg), "vCPU %u: ioctl KVM_RUN: %s", v->index, strerror(errno));
			end_vm(vm, KTSTR_EXIT_INTERNAL_ERROR, -1, vcpu_rip(v), msg);
			break;
		}
		switch (v->run->exit_reason) {
		case KVM_EXIT_IO:
			if (handle_io(v))
				goto out;
			break;
		case KVM_EXIT_HLT:
			serial8250_flush(&vm->com1, v->index);
			pthread_mutex_lock(&vm->lock);
			vm->halted++;
			pthread_mutex_unlock(&vm->lock);
			if (vm->halted == vm->nr_vcpus)
				end_vm(vm, KTSTR_EXIT_DEBUG_PORT, 0, 0, "all vCPUs halted");
			goto out;
		case KVM_EXIT_SHUTDOWN:
			end_vm(vm, KTSTR_EXIT_SHUTDOWN, -1, vcpu_rip(v), "guest shutdown (triple fault)");
			goto out;
		case KVM_EXIT_INTR:
			break;
		default:
			snprintf(msg, sizeof(msg), "vCPU %u: unhandled KVM exit %u", v->index,
				 v->run->exit_reason);
			end_vm(vm, KTSTR_EXIT_INTERNAL_ERROR, -1, vcpu_rip(v), msg);
			goto out;
		}
	}
out:
	return NULL;
}

static int fail(struct ktstr_vm_report *r, const char *what)
{
	r->kind = KTSTR_EXIT_SETUP_ERROR;
	snprintf(r->message, sizeof(r->message), "%s: %s", what, strerror(errno));
	return -1;
}

static int load_guest(struct vm *vm, const char *path, struct ktstr_vm_report *r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;

	if (fd < 0)
		return fail(r, path);
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size > STACKS_ADDR - KTSTR_GUEST_LOAD_ADDR) {
		close(fd);
		errno = EFBIG;
		return fail(r, path);
	}
	n = read(fd, vm->mem + KTSTR_GUEST_LOAD_ADDR, st.st_size);
	close(fd);
	if (n != st.st_size)
		return fail(r, path);
	return 0;
}

static int create_vcpus(struct vm *vm, const struct ktstr_vm_config *cfg, struct ktstr_vm_report *r)
{
	char err[200];

	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		struct kvm_cpuid2 *cpuid;

		v->vm = vm;
		v->index = i;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, ktstr_apic_id(&cfg->topo, i));
		if (v->fd < 0)
			return fail(r, "ioctl KVM_CREATE_VCPU");
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED) {
			v->run = NULL;
			return fail(r, "mmap kvm_run");
		}
		cpuid = ktstr_cpuid_for(vm->kvm_fd, &cfg->topo, i, err, sizeof(err));
		if (!cpuid || ioctl(v->fd, KVM_SET_CPUID2, cpuid) < 0) {
			free(cpuid);
			errno = cpuid ? errno : EINVAL;
			return fail(r, cpuid ? "ioctl KVM_SET_CPUID2" : err);
		}
		free(cpuid);
		if (ktstr_setup_long_mode(v->fd, vm->mem, KTSTR_GUEST_LOAD_ADDR,
					  STACKS_ADDR + (i + 1) * 0x1000ULL, err, sizeof(err)) < 0) {
			r->kind = KTSTR_EXIT_SETUP_ERROR;
			snprintf(r->message, sizeof(r->message), "%s", err);
			return -1;
		}
		{
			struct kvm_regs regs;

			if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0)
				return fail(r, "ioctl KVM_GET_REGS");
			regs.rdi = i; /* the synthetic guests' calling convention: rdi = vCPU index */
			if (ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
				return fail(r, "ioctl KVM_SET_REGS");
		}
	}
	return 0;
}

static void teardown(struct vm *vm)
{
	for (uint32_t i = 0; vm->vcpus && i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->started)
			pthread_join(v->thread, NULL);
		serial8250_flush(&vm->com1, i); /* a last partial line, once its vCPU is gone */
		if (v->run)
			munmap(v->run, vm->run_size);
		if (v->fd > 0)
			close(v->fd);
	}
	free(vm->vcpus);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	pthread_mutex_destroy(&vm->com1.lock);
	pthread_mutex_destroy(&vm->lock);
	pthread_cond_destroy(&vm->cond);
}

static void stop_vcpus(struct vm *vm)
{
	for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (v->run)
			v->run->immediate_exit = 1;
		if (v->started)
			pthread_kill(v->thread, SIGUSR1);
	}
}

int ktstr_vm_run(const struct ktstr_vm_config *cfg, struct ktstr_vm_report *report)
{
	struct vm vm = { .kvm_fd = -1, .vm_fd = -1 };
	struct kvm_userspace_memory_region region;
	struct sigaction sa = { .sa_handler = on_kick };
	uint64_t start = now_ns();
	const struct ktstr_topology *t = &cfg->topo;
	int rc = -1;

	pthread_condattr_t cattr;

	memset(report, 0, sizeof(*report));
	pthread_mutex_init(&vm.lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC); /* the watchdog's deadline clock */
	pthread_cond_init(&vm.cond, &cattr);
	pthread_condattr_destroy(&cattr);
	serial8250_init(&vm.com1, KTSTR_COM1_PORT, cfg->console_fd);
	vm.report = report;
	if (!t->numa_nodes || !t->llcs || !t->cores_per_llc || !t->threads_per_core ||
	    t->llcs % t->numa_nodes) {
		errno = EINVAL;
		fail(report, "topology: every count >= 1 and llcs divisible by numa_nodes");
		goto out;
	}
	vm.nr_vcpus = t->llcs * t->cores_per_llc * t->threads_per_core;
	report->vcpus = vm.nr_vcpus;
	if (vm.nr_vcpus > KTSTR_MAX_VCPUS) {
		errno = E2BIG;
		fail(report, "topology: too many vCPUs");
		goto out;
	}
	vm.mem_size = (cfg->memory_mib ? cfg->memory_mib : 64) << 20;
	if (vm.mem_size < STACKS_ADDR + (vm.nr_vcpus + 1) * 0x1000ULL) {
		errno = EINVAL;
		fail(report, "memory_mib: too small for the guest and its stacks");
		goto out;
	}
	sigaction(SIGUSR1, &sa, NULL);
	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm_fd < 0) {
		fail(report, "open /dev/kvm");
		goto out;
	}
	if (ioctl(vm.kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		errno = ENOTSUP;
		fail(report, "ioctl KVM_GET_API_VERSION (need 12)");
		goto out;
	}
	vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	if (vm.vm_fd < 0) {
		fail(report, "ioctl KVM_CREATE_VM");
		goto out;
	}
	ioctl(vm.vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000); /* needed on VMX; harmless elsewhere */
	vm.mem = mmap(NULL, vm.mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
		      MAP_NORESERVE, -1, 0);
	if (vm.mem == MAP_FAILED) {
		vm.mem = NULL;
		fail(report, "mmap guest memory");
		goto out;
	}
	region = (struct kvm_userspace_memory_region){ .slot = 0, .guest_phys_addr = 0,
		.memory_size = vm.mem_size, .userspace_addr = (uint64_t)vm.mem };
	if (ioctl(vm.vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		fail(report, "ioctl KVM_SET_USER_MEMORY_REGION");
		goto out;
	}
	if (load_guest(&vm, cfg->guest_path, report) < 0)
		goto out;
	vm.run_size = ioctl(vm.kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	vm.vcpus = calloc(vm.nr_vcpus, sizeof(*vm.vcpus));
	if (!vm.vcpus) {
		fail(report, "calloc vCPUs");
		goto out;
	}
	if (create_vcpus(&vm, cfg, report) < 0)
		goto out;
	for (uint32_t i = 0; i < vm.nr_vcpus; i++) {
		if (pthread_create(&vm.vcpus[i].thread, NULL, vcpu_loop, &vm.vcpus[i]) != 0) {
			end_vm(&vm, KTSTR_EXIT_SETUP_ERROR, -1, 0, "pthread_create for a vCPU failed");
			break;
		}
		vm.vcpus[i].started = 1;
	}
	pthread_mutex_lock(&vm.lock);
	if (cfg->timeout_ms) {
		struct timespec deadline;
		uint64_t at = now_ns() + (uint64_t)cfg->timeout_ms * 1000000ULL;

		deadline.tv_sec = at / 1000000000ULL;
		deadline.tv_nsec = at % 1000000000ULL;
		while (!vm.ended)
			if (pthread_cond_timedwait(&vm.cond, &vm.lock, &deadline) == ETIMEDOUT)
				break;
	} else {
		while (!vm.ended)
			pthread_cond_wait(&vm.cond, &vm.lock);
	}
	pthread_mutex_unlock(&vm.lock);
	end_vm(&vm, KTSTR_EXIT_TIMEOUT, -1, 0, "timeout: the guest did not finish in time");
	vm.ended = 1;
	stop_vcpus(&vm);
	rc = 0;
out:
	report->setup_ns = vm.first_run_ns ? vm.first_run_ns - start : 0;
	teardown(&vm);
	report->run_ns = now_ns() - start - report->setup_ns;
	return rc;
}
