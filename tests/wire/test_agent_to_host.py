"""The guest agent's frames, decoded by the host: both ends of the result stream through
their real code (ktstr.guest.agent.run -> FrameWriter -> ktstr.wire.messages.decode).

Only the guest's surroundings are replaced: the result tty by a file, and /dev/kmsg and the
tracing directory (which belong to the host this test runs on) by stand-ins."""

from ktstr.guest import agent
from ktstr.wire.frames import FrameWriter
from ktstr.wire.messages import decode
from ktstr.wire.run_config import RunConfig, TestRef
from ktstr.wire.status import Status

TESTS = '''
from ktstr import Claims, claim
from ktstr.checks.result import AssertResult

def passes(ctx):
    return AssertResult(stats={"cg_0.iterations": 7})

def fails_a_claim(ctx):
    v = Claims()
    n = 3
    claim(v, n * 2).at_most(5)
    return v.into_result()

def raises(ctx):
    raise RuntimeError("boom")

def skips(ctx):
    return AssertResult.skip("no SMT here")
'''


class FileReporter(agent.Reporter):
    def __init__(self, fd: int) -> None:  # the agent opens a raw tty; here a file
        self.fd = fd
        self.writer = FrameWriter(fd)


class NoKmsg:
    lines: tuple[str, ...] = ()  # the kernel log the agent would read: none

    def poll(self):
        return []


class NoDump:
    def clear(self):
        pass

    def collect(self):
        return ""


def test_what_the_agent_sends_the_host_reads(tmp_path, monkeypatch):
    src = tmp_path / "vm_tests.py"
    src.write_text(TESTS)
    marks = []
    monkeypatch.setattr(agent, "mark", marks.append)
    monkeypatch.setattr(agent, "KmsgReader", NoKmsg)
    monkeypatch.setattr(agent, "ScxDump", NoDump)
    names = ["passes", "fails_a_claim", "raises", "skips"]
    config = RunConfig(suite="s", topology="1n1l2c1t", tests=[TestRef(n, str(src)) for n in names])
    stream = tmp_path / "com2"
    with open(stream, "wb") as f:
        assert agent.run(config, FileReporter(f.fileno())) == ""
    guest = decode(stream.read_bytes())
    assert guest.stream_errors == [] and guest.started == names
    assert marks == [f"ktstr: test {n} begins" for n in names]
    r = guest.results
    assert {n: r[n].status for n in names} == {"passes": Status.PASS, "fails_a_claim": Status.FAIL,
                                                "raises": Status.FAIL, "skips": Status.SKIP}
    assert r["passes"].stats == {"cg_0.iterations": 7.0}
    [c] = r["fails_a_claim"].claims
    assert (c.label, c.value, c.bound, c.passed) == ("n * 2", "6", "<= 5", False)
    assert r["fails_a_claim"].reason == "claim failed: n * 2 = 6, expected <= 5"
    assert r["raises"].reason == "test raised RuntimeError: boom"
    assert r["skips"].reason == "no SMT here"


def test_a_template_agent_waits_for_its_run_json_on_the_port(monkeypatch):
    """Mode "ready" (a snapshot's template): the agent writes READY_MARK on its result port
    and reads its run.json, with the key, from the same port (a pty here), so a restored
    clone gets its own; no frame is sent before the key, so the clone's stream starts at 0."""
    import os
    import tty

    from ktstr.wire.run_config import READY_MARK, delivery

    host, guest = os.openpty()
    tty.setraw(guest)
    rep = FileReporter(guest)
    config = RunConfig(suite="s", topology="1n1l2c1t", tests=[TestRef("t", "/f.py")], result_key="cd" * 32)
    os.write(host, delivery(config, bytes(32)))
    reseeded = []
    monkeypatch.setattr(agent, "_reseed", reseeded.append)  # the guest's CRNG, not this host's
    monkeypatch.setattr(agent, "_warm_imports", lambda: None)
    got, key = agent.await_run_json(rep)
    assert reseeded == [bytes(32)]
    assert os.read(host, 100) == READY_MARK
    assert key == bytes.fromhex("cd" * 32) and got.result_key == ""
    assert got.tests == config.tests and rep.writer.seq == 0
    os.close(host)
    os.close(guest)
