"""The original ktstr's scenario catalogue (81 entries, flags and profiles as data)."""

from ktstr.catalogue.entries import CATALOGUE, Entry
from ktstr.catalogue.flags import FLAGS, profile_name, profiles
from ktstr.catalogue.run import run_entries, run_entry

__all__ = ["CATALOGUE", "Entry", "FLAGS", "profile_name", "profiles", "run_entries", "run_entry"]
