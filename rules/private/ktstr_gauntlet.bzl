"""ktstr_gauntlet: one ktstr_test per topology, and a test_suite of them."""

load("//rules:private/ktstr_test.bzl", "ktstr_test")
load("//rules:private/topology.bzl", "resolve_topology")

def ktstr_gauntlet(name, topologies, memory_mib = None, tags = [], **kwargs):
    """The same ktstr_test on several topologies.

    One target per topology, named `<name>_<topology>` (preset names with `-` as `_`), and a
    test_suite `name` of them all.

    Args:
      name: the test_suite's name and the targets' prefix.
      topologies: shapes ("1n2l2c2t") or preset names ("tiny-2llc", "smt-2llc", ...).
      memory_mib: guest memory (default as ktstr_test's: max(1024, 64 per vCPU)).
      tags: tags of every target and of the suite.
      **kwargs: everything else ktstr_test takes (srcs, kernel, initramfs, scheduler, ...).
    """
    if not topologies:
        fail("ktstr_gauntlet %s: topologies is empty" % name)
    tests = []
    for topology in topologies:
        shape = resolve_topology(topology)
        target = "%s_%s" % (name, topology.replace("-", "_"))
        ktstr_test(
            name = target,
            topology = shape,
            memory_mib = memory_mib,
            tags = tags,
            **kwargs
        )
        tests.append(":" + target)
    native.test_suite(name = name, tests = tests, tags = tags)
