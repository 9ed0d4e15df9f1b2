#!/bin/sh
# /init of the L1 host in the nested test bed (vmm/nested/README.md): L0 is QEMU TCG with an
# emulated AMD SVM, this is L1 (//kernels:l1_host, KVM built in), and /l1/run, from the
# per-run layer the host appends, boots L2 under ktstr-vmm (or QEMU+KVM for the reference).
#   ttyS0 = L2's COM1 (console) out to L0's COM1, raw
#   ttyS1 = L2's COM2 (result stream) out to L0's COM2, raw: binary frames pass unchanged
#   ttyS2 = L1's own console and this script's log ("ktstr-l1: ..." lines)
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
log=/dev/ttyS2
stty -F /dev/ttyS0 raw -echo
stty -F /dev/ttyS1 raw -echo
echo "ktstr-l1: up $(cut -d' ' -f1 /proc/uptime) s" > $log
if [ ! -c /dev/kvm ]; then
	echo "ktstr-l1: no /dev/kvm: L0 offers no SVM (QEMU needs -cpu max) or L1 has no KVM_AMD" > $log
elif [ ! -x /l1/run ]; then
	echo "ktstr-l1: no /l1/run: the host appends it as a second initramfs layer" > $log
else
	/l1/run > $log 2>&1
	echo "ktstr-l1: rc=$? at $(cut -d' ' -f1 /proc/uptime) s" > $log
fi
poweroff -f
