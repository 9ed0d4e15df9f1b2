"""Host side of ktstr: boot an engine, read the guest's result stream, judge, report."""
