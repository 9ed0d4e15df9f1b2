import subprocess

from ktstr.host.discovery import list_all, select
from ktstr.host.run_layer import LayerFile, cpio_newc


def test_cpio_layer_is_deterministic_and_readable_by_cpio(tmp_path):
    files = [LayerFile("ktstr/run.json", b"{}\n"), LayerFile("ktstr/tests/t.py", b"x = 1\n", 0o600)]
    a = cpio_newc(files)
    assert a == cpio_newc(list(reversed(files)))
    assert len(a) % 4 == 0  # the kernel needs the next concatenated archive 4-byte aligned
    (tmp_path / "l.cpio").write_bytes(a)
    listing = subprocess.run(["cpio", "-it"], input=a, capture_output=True, check=True).stdout.decode()
    assert listing.split() == ["ktstr", "ktstr/run.json", "ktstr/tests", "ktstr/tests/t.py"]


SRC = '''
from ktstr import ktstr_test
import ktstr.scenario as sc

@ktstr_test(llcs=2, cores=2, duration=1.5)
def two_llcs(ctx):
    pass

@sc.ktstr_test
def plain(ctx):
    pass

def helper():
    pass
'''


def test_listing_reads_decorated_functions(tmp_path):
    src = tmp_path / "t.py"
    src.write_text(SRC)
    tests = list_all([src])
    assert [t.name for t in tests] == ["two_llcs", "plain"]
    assert tests[0].topology_string() == "1n2l2c1t"
    assert tests[0].options["duration"] == 1.5
    assert tests[1].topology_string() is None
    assert [t.name for t in select(tests, "", "plain")] == ["plain"]
    assert [t.name for t in select(tests, "two_llcs", "")] == ["two_llcs"]
