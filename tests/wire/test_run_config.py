"""run.json: what the host writes is what the guest reads; bad input is refused by name."""

import json

import pytest

from ktstr.wire.run_config import EEVDF, RunConfig, RunConfigError, SchedulerSpec, TestRef


def test_round_trip_through_json():
    cfg = RunConfig(suite="//sched:s", topology="1n2l2c1t", tests=[TestRef("fair", "/ktstr/tests/s.py")],
                    scheduler=SchedulerSpec("scx_simple", "/ktstr/sched/scx_simple", ("-s", "5000"), "simple",
                                            init_cpu=1),
                    emulated=False, duration_s=1.5)
    data = json.loads(json.dumps(cfg.to_json()))
    assert data["scheduler"] == {"name": "scx_simple", "binary": "/ktstr/sched/scx_simple",
                                 "args": ["-s", "5000"], "ops_name": "simple", "init_cpu": 1}
    assert RunConfig.from_json(data) == cfg


def test_eevdf_is_no_scheduler():
    cfg = RunConfig(suite="s", topology="1n1l2c1t")
    assert cfg.to_json()["scheduler"] is None and RunConfig.from_json(cfg.to_json()).scheduler is None
    assert EEVDF.is_eevdf and not SchedulerSpec("x", "/bin/x").is_eevdf


def test_unknown_keys_mode_and_version_are_refused():
    data = RunConfig(suite="s", topology="1n1l2c1t").to_json()
    with pytest.raises(ValueError, match="unknown key.*colour"):
        RunConfig.from_json({**data, "colour": "red"})
    with pytest.raises(ValueError, match="mode 'debug'"):
        RunConfig.from_json({**data, "mode": "debug"})
    with pytest.raises(ValueError, match="version 2"):
        RunConfig.from_json({**data, "version": 2})


@pytest.mark.parametrize("value", [[], [["suite", "x"]], "suite", 42, None, True,
                                   {"suite": "s", "topology": "1n1l1c1t", "tests": "fair"},
                                   {"suite": "s", "topology": "1n1l1c1t", "tests": [["fair", "f.py"]]},
                                   {"suite": "s", "topology": "1n1l1c1t", "scheduler": ["scx"]},
                                   {"suite": "s", "topology": "1n1l1c1t", "scheduler": {"name": "x"}},
                                   {"topology": "1n1l1c1t"}, {1: 2}])
def test_any_json_value_is_a_config_or_a_named_error(value):
    """Issue 22: a run.json whose top level is not an object raised AttributeError in the
    agent (PID 1), which panicked the guest. Every JSON value now reads or is refused with
    RunConfigError (a KtstrError), naming the part."""
    from ktstr.errors import KtstrError
    from ktstr.wire.run_config import RunConfigError

    with pytest.raises(RunConfigError, match="run.json") as err:
        RunConfig.from_json(value)
    assert isinstance(err.value, KtstrError)


def test_agent_survives_a_bad_run_json(tmp_path, monkeypatch, capsys):
    """The agent with run.json = [] says why on the console and powers off (PID 1 must not
    raise: an exception out of init panics the kernel). mount_all and power_off are the
    guest's syscalls (mount, reboot), which a host test cannot make."""
    from ktstr.guest import agent, system

    run_json = tmp_path / "run.json"
    run_json.write_text("[]")
    powered_off = []
    monkeypatch.setattr(agent, "RUN_JSON", str(run_json))
    monkeypatch.setattr(system, "mount_all", list)
    monkeypatch.setattr(system, "power_off", lambda: powered_off.append(True))
    assert agent.main() == 1
    assert powered_off == [True]
    out = capsys.readouterr().out
    assert "cannot read" in out and "RunConfigError: run.json's top level must be a JSON object, got list" in out


def test_the_target_config_reader_names_the_file_and_decodes_expectations(tmp_path):
    from ktstr.wire.target_config import TargetConfigError, read_target_config

    path = tmp_path / "x_ktstr_config.json"
    path.write_text(json.dumps({"suite": "//x:y", "expectations": [json.dumps({"text": "BUG"})]}))
    assert read_target_config(path)["expectations"] == [{"text": "BUG"}]
    path.write_text("{not json")
    with pytest.raises(TargetConfigError, match="cannot read the target's config .*x_ktstr_config.json"):
        read_target_config(path)
    path.write_text("[]")
    with pytest.raises(TargetConfigError, match="not a ktstr target config.*rebuild the target"):
        read_target_config(path)


def test_run_config_read_refuses_a_file_that_is_not_json(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps(RunConfig(suite="s", topology="1n1l2c1t").to_json()))
    assert RunConfig.read(str(path)).suite == "s"
    path.write_text("{")
    with pytest.raises(RunConfigError, match="run.json is not JSON"):
        RunConfig.read(str(path))


def test_a_delivered_run_json_reads_back_with_its_key():
    """A restored clone's run.json goes over its result port (ktstr.host.snapshot): the
    bytes the host writes are what the agent reads, key included."""
    from ktstr.wire.run_config import RunConfigError, delivery, read_delivered

    config = RunConfig(suite="s", topology="1n1l2c1t", tests=[TestRef("t", "/ktstr/tests/t.py")],
                       result_key="ab" * 32)
    seed = bytes(range(32))
    data = delivery(config, seed)
    read = _reader(data)
    assert read_delivered(lambda n: read(min(n, 3))) == (config, seed)  # a tty hands it over in pieces
    with pytest.raises(RunConfigError, match="ended in its seed"):
        read_delivered(_reader(data[:-1]))
    with pytest.raises(RunConfigError, match="seed is 32 bytes, got 3"):
        delivery(config, b"abc")


def _reader(data: bytes):
    """read(n) over bytes, as os.read on the port: at most n."""
    import io

    return io.BytesIO(data).read


@pytest.mark.parametrize("data, error", [
    (b"XXXX\x02\x00\x00\x00{}", "starts with"),
    (b"KTRJ\x10\x00", "ended in its header"),
    (b"KTRJ\x10\x00\x00\x00{}", "ended in its body"),
    (b"KTRJ\xff\xff\xff\xff", "more than"),
    (b"KTRJ\x02\x00\x00\x00{x", "not JSON"),
])
def test_a_bad_delivery_is_a_named_error(data, error):
    from ktstr.wire.run_config import RunConfigError, read_delivered

    with pytest.raises(RunConfigError, match=error):
        read_delivered(_reader(data))


@pytest.mark.parametrize("mode", ["ready", "shell"])
def test_a_clone_runs_tests_or_a_command_only(mode):
    """A clone told "ready" would wait forever; a shell needs the console's input."""
    from ktstr.wire.run_config import DELIVERY_MAGIC, RunConfigError, delivery, read_delivered

    config = RunConfig(suite="s", topology="1n1l1c1t", mode=mode)
    with pytest.raises(RunConfigError, match="clone"):
        delivery(config, bytes(32))
    text = json.dumps(config.to_json()).encode()
    with pytest.raises(RunConfigError, match="clone runs tests or a command"):
        read_delivered(_reader(DELIVERY_MAGIC + len(text).to_bytes(4, "little") + text))
