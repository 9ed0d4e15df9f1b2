import sys
from pathlib import Path

# fake_guest.py sits beside the tests; under Bazel the test's directory is not on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parent))
