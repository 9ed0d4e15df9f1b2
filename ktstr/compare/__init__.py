"""A/B comparison of ktstr runs: `ktstr compare A B`.

load.py finds the runs of each side (result.json files, run directories, Bazel test logs with
their outputs.zip); metrics.py says which test stats are judged and which way is worse;
significance.py holds the statistics (Mann-Whitney U, bootstrap CI); judge.py turns two
samples into a per-test, per-metric verdict; report.py and plot.py present it.
"""
