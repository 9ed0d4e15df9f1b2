#!/bin/sh
echo "ktstr: 'bazel coverage' is not supported with the offline Bazel 4.2.3 setup" >&2
echo "  (remote_coverage_tools cannot be downloaded here). Use 'pytest --cov' outside" >&2
echo "  Bazel, or Bazel 7+ with MODULE.bazel and network access." >&2
exit 1
