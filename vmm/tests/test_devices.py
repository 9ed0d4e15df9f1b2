"""Legacy devices and the two Linux power paths, with synthetic guests on real /dev/kvm."""

from pathlib import Path

GUESTS = Path("vmm/tests/guests")


def test_com2_cmos_uart_registers_and_acpi_s5_power_off(vmm, tmp_path):
    com2 = tmp_path / "com2.bin"
    r = vmm("--topology", "1n1l2c1t", "--com2", str(com2), str(GUESTS / "devices.bin"))
    assert r.report["exit"] == "shutdown" and r.report["message"] == "guest powered off (ACPI S5)", r.report
    assert r.rc == 125  # a synthetic guest that did not write the debug-exit port
    assert com2.read_bytes() == b"com2 ok\n"  # COM2 goes to its own file, not the console
    assert r.out == "scr=5a lsr=60 cmos_a=26 cmos_b=02\n"


def test_i8042_reset_ends_the_vm_as_a_shutdown(vmm):
    r = vmm(str(GUESTS / "i8042_reset.bin"))
    assert r.report["exit"] == "shutdown" and "i8042" in r.report["message"], r.report
