"""Every format that crosses a process boundary (host and guest, the run and its readers,
the VMM and its engines), in one place.

    frames.py      the byte framing of the result stream (COM2), writer and reader
    status.py      Status: PASS / SKIP / INCONCLUSIVE / FAIL, one enum for guest, wire and host
    messages.py    one type per frame (Hello, Log, TestStart, GuestTestResult, RunEnd), ClaimRecord,
                   GuestRun; protobuf <-> these (ktstr.proto)
    run_config.py  RunConfig: /ktstr/run.json, what the host asks the guest to run; GuestOptions,
                   the fields of it a target chooses
    target_config.py  the JSON config a ktstr Bazel target writes for its runner (one reader)
    defaults.py    each job kind's defaults (VM timeout, memory): what an unset option means
    results.py     RunReport, BootRecord, TestOutcome: result.json, what a run leaves for
                   `ktstr show`, `ktstr compare` and the verifier cells (one writer, one reader)
    verifier.py    VerifierRecord: a verifier cell's records, frames of type 6 on COM2
    vmm_report.py  VmmExitReport: the C VMM's exit report (cffi struct, ktstr-vmm's key=value lines)
    marks.py       lines on the console (COM1) both sides read: test marks, sched_ext exits

A change to the protocol is a change here (and to ktstr.proto for a message field); the
guest agent and the host runner only call these.
"""
