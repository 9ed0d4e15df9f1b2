"""Verifier cells: load every BPF program of each scheduler in a VM of a given kernel and
record what the BPF verifier says (schedulers/verifier/ktstr_verifier_shim.c does the
recording in the guest; records.py reads it, budget.py holds the user's limits, cell.py runs
and judges a cell)."""
