"""Every contract between the host and the guest, in one place.

    frames.py      the byte framing of the result stream (COM2), writer and reader
    status.py      Status: PASS / SKIP / INCONCLUSIVE / FAIL, one enum for guest, wire and host
    messages.py    ClaimRecord, GuestTestResult, GuestRun; protobuf <-> these (ktstr.proto)
    run_config.py  RunConfig: /ktstr/run.json, what the host asks the guest to run
    results.py     RunReport, BootRecord, TestOutcome: result.json, what a run leaves for
                   `ktstr show`, `ktstr compare` and the verifier cells (one writer, one reader)
    marks.py       lines on the console (COM1) both sides read: test marks, sched_ext exits

A change to the protocol is a change here (and to ktstr.proto for a message field); the
guest agent and the host runner only call these.
"""
