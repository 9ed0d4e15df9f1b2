"""Named topology presets ("{n}n{l}l{c}c{t}t"), as the original ktstr's gauntlet names them.

Kept equal to ktstr/topology.py's PRESETS (a test compares the two). This file is a single
dict literal, readable by Python too.
"""

TOPOLOGY_PRESETS = {
    "tiny-1llc": "1n1l4c1t",
    "tiny-2llc": "1n2l2c1t",
    "odd-3llc": "1n3l3c1t",
    "odd-5llc": "1n5l3c1t",
    "odd-7llc": "1n7l2c1t",
    "smt-2llc": "1n2l2c2t",
    "smt-3llc": "1n3l2c2t",
    "medium-4llc": "1n4l4c2t",
    "medium-8llc": "1n8l4c2t",
    "large-4llc": "1n4l16c2t",
    "large-8llc": "1n8l8c2t",
    "near-max-llc": "1n15l8c2t",
    "max-cpu": "1n14l9c2t",
    "medium-4llc-nosmt": "1n4l8c1t",
    "medium-8llc-nosmt": "1n8l8c1t",
    "large-4llc-nosmt": "1n4l32c1t",
    "large-8llc-nosmt": "1n8l16c1t",
    "near-max-llc-nosmt": "1n15l16c1t",
    "max-cpu-nosmt": "1n14l18c1t",
    "numa2-4llc": "2n4l4c1t",
    "numa2-8llc": "2n8l8c2t",
    "numa2-8llc-nosmt": "2n8l16c1t",
    "numa4-8llc": "4n8l4c1t",
    "numa4-12llc": "4n12l8c2t",
}
