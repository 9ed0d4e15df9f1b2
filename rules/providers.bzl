"""Providers that carry ktstr artifacts between rules."""

KtstrKernelInfo = provider(
    doc = "A kernel built by ktstr_kernel.",
    fields = {
        "bzimage": "File: the bootable bzImage",
        "vmlinux": "File: vmlinux with symbols and .BTF (DWARF stripped)",
        "config": "File: the final .config",
        "release": "File: text file with the kernel release string (uname -r)",
        "version": "string: the source version, e.g. '6.12'",
        "layout": "File: layout.json, the symbols and struct offsets the host monitor reads guest memory with (docs/monitor.md)",
    },
)

KtstrSchedulerInfo = provider(
    doc = "A sched_ext scheduler (or EEVDF when binary is None).",
    fields = {
        "name": "string: the scheduler's name in ktstr reports",
        "binary": "File or None: the userspace loader binary; None means EEVDF",
        "runtime_files": "depset of Files the binary needs at run time in the guest",
        "args": "list of strings: default arguments",
        "ops_name": "string: the name /sys/kernel/sched_ext/root/ops shows when attached",
        "init_cpu": "int: the CPU its ops.init() must run on (-1: any); the agent pins sched_ext's enable kthread there",
    },
)

KtstrInitramfsInfo = provider(
    doc = "An initramfs made of one or more cpio archives, concatenated in order.",
    fields = {
        "archives": "list of Files (cpio, maybe compressed), concatenated in this order",
        "compression": "string: none, gzip, lz4 or zstd",
    },
)
