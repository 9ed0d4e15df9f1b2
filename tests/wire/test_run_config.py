"""run.json: what the host writes is what the guest reads; bad input is refused by name."""

import json

import pytest

from ktstr.wire.run_config import EEVDF, RunConfig, SchedulerSpec, TestRef


def test_round_trip_through_json():
    cfg = RunConfig(suite="//sched:s", topology="1n2l2c1t", tests=[TestRef("fair", "/ktstr/tests/s.py")],
                    scheduler=SchedulerSpec("scx_simple", "/ktstr/sched/scx_simple", ("-s", "5000"), "simple"),
                    emulated=False, duration_s=1.5)
    data = json.loads(json.dumps(cfg.to_json()))
    assert data["scheduler"] == {"name": "scx_simple", "binary": "/ktstr/sched/scx_simple",
                                 "args": ["-s", "5000"], "ops_name": "simple"}
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
