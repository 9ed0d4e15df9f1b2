#!/bin/bash
# This monorepo's interpreter: the system CPython under the monorepo's own name (sys.executable
# is this script), as a stand-in for a hermetic or differently-built Python. ktstr's own code
# must never run on it, nor pack it into a guest: consumer-py-interpreter marks it.
exec -a "$0" /usr/bin/python3 "$@"
