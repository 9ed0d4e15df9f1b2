"""The host's decoding of result frames, with real protobuf messages built from a schema
that has the field names docs/host-runner.md documents (the guest's ktstr.proto has them)."""

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from ktstr.host.guest_messages import HELLO, LOG, RUN_END, TEST_RESULT, TEST_START, to_guest_run
from ktstr.host.result_stream import encode_frame, split_frames
from ktstr.host.verdict import Verdict

F = descriptor_pb2.FieldDescriptorProto


def _schema():
    fd = descriptor_pb2.FileDescriptorProto(name="host_test_ktstr.proto", package="hosttest", syntax="proto3")
    status = fd.enum_type.add(name="Status")
    for i, n in enumerate(["STATUS_UNSPECIFIED", "STATUS_PASS", "STATUS_FAIL", "STATUS_SKIP", "STATUS_INCONCLUSIVE"]):
        status.value.add(name=n, number=i)

    def msg(name, *fields):
        m = fd.message_type.add(name=name)
        for number, (fname, ftype, label, type_name) in enumerate(fields, start=1):
            f = m.field.add(name=fname, number=number, type=ftype, label=label)
            if type_name:
                f.type_name = type_name
        return m

    opt, rep = F.LABEL_OPTIONAL, F.LABEL_REPEATED
    msg("Hello", ("kernel_release", F.TYPE_STRING, opt, None), ("topology", F.TYPE_STRING, opt, None))
    msg("Log", ("text", F.TYPE_STRING, opt, None))
    msg("TestStart", ("name", F.TYPE_STRING, opt, None))
    msg("Claim", ("label", F.TYPE_STRING, opt, None), ("value", F.TYPE_DOUBLE, opt, None),
        ("bound", F.TYPE_STRING, opt, None), ("passed", F.TYPE_BOOL, opt, None))
    msg("TestResult",
        ("name", F.TYPE_STRING, opt, None), ("status", F.TYPE_ENUM, opt, ".hosttest.Status"),
        ("reason", F.TYPE_STRING, opt, None), ("claims", F.TYPE_MESSAGE, rep, ".hosttest.Claim"),
        ("details", F.TYPE_STRING, rep, None), ("scheduler_output", F.TYPE_STRING, opt, None),
        ("sched_ext_exit", F.TYPE_STRING, opt, None), ("duration_s", F.TYPE_DOUBLE, opt, None),
        ("sched_ext_dump", F.TYPE_STRING, opt, None))
    msg("RunEnd", ("agent_error", F.TYPE_STRING, opt, None))
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    names = {HELLO: "Hello", LOG: "Log", TEST_START: "TestStart", TEST_RESULT: "TestResult", RUN_END: "RunEnd"}
    factory = message_factory.MessageFactory(pool)  # protobuf 4.21 API
    return {t: factory.GetPrototype(pool.FindMessageTypeByName(f"hosttest.{n}")) for t, n in names.items()}


@pytest.fixture(scope="module")
def classes():
    return _schema()


def _parse(classes):
    return lambda t, payload: classes[t].FromString(payload)


def test_a_whole_run_decodes(classes):
    c = classes
    result = c[TEST_RESULT](name="fair", status=2, reason="1 claim failed", details=["cg_0 ran 3% of the time"],
                           scheduler_output="scx_simple: exiting", duration_s=1.5,
                           sched_ext_dump="CPU states\n----------")
    result.claims.add(label="cg_0.share_pct", value=3.0, bound=">= 30", passed=False)
    result.claims.add(label="cg_1.share_pct", value=97.0, bound="<= 70", passed=False)
    stream = b"".join([
        encode_frame(HELLO, c[HELLO](kernel_release="6.12.117", topology="1n1l2c1t").SerializeToString()),
        encode_frame(TEST_START, c[TEST_START](name="fair").SerializeToString()),
        encode_frame(LOG, c[LOG](text="scheduler attached").SerializeToString()),
        encode_frame(TEST_RESULT, result.SerializeToString()),
        encode_frame(RUN_END, c[RUN_END]().SerializeToString()),
    ])
    frames, errors = split_frames(stream)
    assert errors == []
    guest = to_guest_run(frames, parse=_parse(c))
    assert guest.stream_errors == []
    assert guest.finished and guest.agent_error == ""
    assert guest.started == ["fair"]
    r = guest.results["fair"]
    assert r.status == Verdict.FAIL
    assert [cl.text() for cl in r.claims] == ["cg_0.share_pct = 3.0 (bound: >= 30)", "cg_1.share_pct = 97.0 (bound: <= 70)"]
    assert r.duration_s == 1.5 and r.scheduler_output == "scx_simple: exiting"
    assert r.sched_ext_dump == "CPU states\n----------"
    assert "agent up: kernel 6.12.117, topology 1n1l2c1t" in guest.agent_log
    assert guest.topology == "1n1l2c1t"


def test_garbled_payload_and_duplicate_result_are_errors(classes):
    c = classes
    ok = c[TEST_RESULT](name="t", status=1).SerializeToString()
    stream = encode_frame(TEST_RESULT, b"\xff\xff\xff") + encode_frame(TEST_RESULT, ok) + encode_frame(TEST_RESULT, ok)
    frames, _ = split_frames(stream)
    guest = to_guest_run(frames, parse=_parse(c))
    assert guest.results["t"].status == Verdict.PASS
    assert len(guest.stream_errors) == 2
    assert "DecodeError" in guest.stream_errors[0]
    assert "second result for test 't'" in guest.stream_errors[1]


def test_unspecified_status_is_rejected(classes):
    c = classes
    frames, _ = split_frames(encode_frame(TEST_RESULT, c[TEST_RESULT](name="t").SerializeToString()))
    guest = to_guest_run(frames, parse=_parse(c))
    assert guest.results == {}
    assert "unknown test status" in guest.stream_errors[0]
