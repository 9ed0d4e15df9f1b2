import gzip
import subprocess

from ktstr.host.guest_messages import TEST_RESULT, TEST_START, to_guest_run
from ktstr.host.result_stream import encode_frame, split_frames
from ktstr.host.run_layer import LayerFile, cpio_newc
from ktstr.host.test_listing import list_all, select


def test_frames_round_trip_and_garbage_is_reported():
    data = b"junk" + encode_frame(3, b"abc") + encode_frame(4, b"") + b"\r\n"
    frames, errors = split_frames(data)
    assert [(f.type, f.payload) for f in frames] == [(3, b"abc"), (4, b"")]
    assert errors == ["4 byte(s) of garbage at offset 0 before a frame",
                      f"2 byte(s) of garbage at offset {len(data) - 2} (no frame magic)"]


def test_bad_crc_and_truncation_are_reported_and_reader_resyncs():
    good = encode_frame(2, b"hello")
    bad = bytearray(encode_frame(2, b"world"))
    bad[-1] ^= 0xFF
    frames, errors = split_frames(bytes(bad) + good + good[:-2])
    assert [f.payload for f in frames] == [b"hello"]
    assert errors[0].startswith("bad CRC in frame at offset 0")
    assert errors[-1].startswith("truncated frame at offset")


def test_unknown_frame_type_is_a_stream_error():
    frames, _ = split_frames(encode_frame(99, b"x"))
    guest = to_guest_run(frames, parse=lambda t, p: (_ for _ in ()).throw(KeyError(f"unknown frame type {t}")))
    assert guest.stream_errors and "unknown frame type 99" in guest.stream_errors[0]


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
