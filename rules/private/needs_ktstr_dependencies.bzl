"""The Python rules ktstr's rules build on, from @rules_python.

Every ktstr rule file takes them from here, so that a workspace which forgot to call
ktstr_dependencies() (WORKSPACE) or to use ktstr's module (bzlmod) stops at this file,
whose name says the fix, instead of at an anonymous missing repository:

    ... in .../ktstr/rules/private/needs_ktstr_dependencies.bzl: Unable to find package
    for @rules_python//python:defs.bzl: The repository '@rules_python' could not be resolved.

Add to your WORKSPACE (see ktstr's README, "Use it from your repository"):

    load("@ktstr//rules:repositories.bzl", "ktstr_dependencies")
    ktstr_dependencies()
"""

load("@rules_python//python:defs.bzl", _py_binary = "py_binary", _py_library = "py_library", _py_test = "py_test")

# legacy_create_init = 0: no __init__.py made up in the runfiles. When ktstr is an external
# repository named "ktstr", Bazel would otherwise create runfiles/ktstr/__init__.py, turning
# the repository's directory into a package called ktstr that shadows the real one
# (runfiles/ktstr/ktstr): `import ktstr.kernel` fails in every consumer.
def py_binary(**kwargs):
    kwargs.setdefault("legacy_create_init", 0)
    _py_binary(**kwargs)

def py_test(**kwargs):
    kwargs.setdefault("legacy_create_init", 0)
    _py_test(**kwargs)

py_library = _py_library
