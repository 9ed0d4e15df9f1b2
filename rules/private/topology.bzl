"""The topology grammar in Starlark: the one place a ".bzl" reads "{n}n{l}l{c}c{t}t".

The same rules as ktstr/topology.py's Topology.parse (tools/lint/test_cross_lists.py runs
this file through Python and compares the two on good and bad shapes): four counts of at
least 1, at most MAX_CPUS CPUs, LLCs spread evenly over the NUMA nodes; a preset name
(presets.bzl) stands for its shape. Written in the Starlark that Python can also execute
(no Bazel built-in but fail()).
"""

load("//rules:private/presets.bzl", "TOPOLOGY_PRESETS")

# As ktstr/topology.py's MAX_CPUS.
MAX_CPUS = 8192

def resolve_topology(topology):
    """A preset name ("tiny-2llc") -> its shape; a shape (or "") stays as it is."""
    return TOPOLOGY_PRESETS.get(topology, topology)

def parse_topology(topology, what = "topology"):
    """The counts of a shape or preset.

    Args:
      topology: "{n}n{l}l{c}c{t}t" (e.g. "1n2l4c1t") or a preset name.
      what: how the error names the input (e.g. "ktstr_matrix x: topology").

    Returns:
      A dict: numa_nodes, llcs (over all nodes), cores_per_llc, threads_per_core, cpus.
    """
    shape = resolve_topology(topology)
    rest = shape
    counts = []
    for unit in ["n", "l", "c", "t"]:
        parts = rest.split(unit, 1)
        if len(parts) != 2 or not parts[0].isdigit():
            fail("%s %r: expected {n}n{l}l{c}c{t}t, e.g. 1n2l4c1t, or a preset name: %s" %
                 (what, topology, ", ".join(sorted(TOPOLOGY_PRESETS))))
        counts.append(int(parts[0]))
        rest = parts[1]
    if rest:
        fail("%s %r: trailing text %r after the threads count" % (what, topology, rest))
    nodes, llcs, cores, threads = counts
    if min(counts) < 1:
        fail("%s %r: every count must be at least 1" % (what, topology))
    cpus = llcs * cores * threads
    if cpus > MAX_CPUS:
        fail("%s %r: %d CPUs, more than the %d any engine runs" % (what, topology, cpus, MAX_CPUS))
    if llcs % nodes:
        fail("%s %r: %d LLCs do not spread evenly over %d NUMA nodes; llcs must be divisible by numa_nodes" %
             (what, topology, llcs, nodes))
    return {
        "numa_nodes": nodes,
        "llcs": llcs,
        "cores_per_llc": cores,
        "threads_per_core": threads,
        "cpus": cpus,
    }

def topology_cpus(topology, what = "topology"):
    """The number of vCPUs of a shape or preset."""
    return parse_topology(topology, what)["cpus"]
