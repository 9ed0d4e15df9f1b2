"""The `ktstr` command (python -m ktstr.cli): run tests outside Bazel, list them, show results."""
