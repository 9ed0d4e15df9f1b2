from ktstr.wire.status import Status


def test_worst_keeps_the_worse_status():
    assert Status.PASS.worst(Status.SKIP) is Status.SKIP
    assert Status.FAIL.worst(Status.INCONCLUSIVE) is Status.FAIL
    assert Status.INCONCLUSIVE.worst(Status.PASS) is Status.INCONCLUSIVE


def test_only_pass_and_skip_are_ok():
    assert [s for s in Status if s.ok] == [Status.PASS, Status.SKIP]
