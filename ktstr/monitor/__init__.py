"""The host monitor: reads the guest kernel's run queues from guest memory while the VM runs
(docs/monitor.md)."""
