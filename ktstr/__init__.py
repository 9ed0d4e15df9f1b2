"""ktstr: a test harness for Linux process schedulers (sched_ext)."""
