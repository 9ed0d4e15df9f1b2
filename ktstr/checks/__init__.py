"""Assertions over worker telemetry: stats, default checks, claims, results."""

from ktstr.checks.assertions import Assert, Off
from ktstr.checks.claims import Verdict, claim
from ktstr.checks.result import AssertResult, ClaimRecord
from ktstr.checks.stats import CgroupStats, median, percentile

__all__ = ["Assert", "AssertResult", "CgroupStats", "ClaimRecord", "Off", "Verdict", "claim",
           "median", "percentile"]
