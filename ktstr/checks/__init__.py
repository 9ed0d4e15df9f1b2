"""Assertions over worker telemetry: stats, default checks, claims, results."""

from ktstr.checks.assertions import Assert, Off
from ktstr.checks.claims import Claims, Verdict, claim
from ktstr.checks.result import AssertResult, ClaimRecord
from ktstr.checks.stats import CgroupStats, median, percentile

__all__ = ["Assert", "AssertResult", "CgroupStats", "ClaimRecord", "Claims", "Off", "Verdict", "claim",
           "median", "percentile"]
