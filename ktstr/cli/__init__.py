"""The `ktstr` command (`bazel run @ktstr//:ktstr --`, the `ktstr` console script, or python -m
ktstr.cli): run tests outside a test target, list them, show results."""
