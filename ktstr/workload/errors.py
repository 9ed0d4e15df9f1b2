"""The workload API's one error: a work, phase, placement or policy that cannot run as
written. Test authors see it in the guest with its message; it keeps ValueError as a base
for callers that catch that."""

from ktstr.errors import KtstrError


class WorkloadError(KtstrError, ValueError):
    """A workload that cannot run as written; the message names the field and the fix."""
