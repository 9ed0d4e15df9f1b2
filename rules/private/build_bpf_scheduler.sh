#!/usr/bin/env bash
# Build one sched_ext scheduler: BPF object -> skeleton -> loader linked with libbpf.
# The action behind ktstr_bpf_scheduler (and the tests run it directly). Compiler errors
# reach the user as clang/gcc print them.
#
# usage: build_bpf_scheduler.sh TOOLCHAIN_DIR KERNEL_SRC BPF_SRC SKEL_NAME STRUCT_OPS OPS_NAME \
#            OUT_BIN OUT_BPF_OBJ "HDR_DIRS" "HDR_NAMES" LOADER_SRC...
set -euo pipefail
tc="$(realpath "$1")"; root="$(realpath "$2")"; bpf_src="$3"; skel="$4"; struct_ops="$5"
ops_name="$6"; out="$7"; bpf_obj="$8"; hdr_dirs="$9"; hdr_names="${10}"
shift 10
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Reproducible objects: the temporary directory, the sandbox's execroot and the toolchain's
# location vanish from debug info and __FILE__, so two machines build identical bytes.
maps=(-ffile-prefix-map="$work"=. -ffile-prefix-map="$PWD"=. -ffile-prefix-map="$tc"=toolchain
      -ffile-prefix-map="$root"=linux)
incs=()
for d in $hdr_dirs; do incs+=("-I$(realpath "$d")"); done
# clang's own system include dirs, after everything else (as the kernel's Makefile does).
sysinc=()
while read -r dir; do sysinc+=(-idirafter "$dir"); done < <(
  clang-19 -v -E - </dev/null 2>&1 | sed -n '/<...> search starts here:/,/End of search list./{s| \(/.*\)|\1|p}')
clang-19 -g -O2 "${maps[@]}" -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -mlittle-endian \
  -I"$tc/include" -I"$root/tools/sched_ext/include" -I"$root/tools/sched_ext/include/bpf-compat" \
  -I"$root/tools/include/uapi" "${incs[@]}" "${sysinc[@]}" \
  -Wall -Wno-compare-distinct-pointer-types -c "$bpf_src" -o "$work/$skel.bpf.o"
"$tc/bin/bpftool" gen object "$work/linked.o" "$work/$skel.bpf.o"
"$tc/bin/bpftool" gen skeleton "$work/linked.o" name "$skel" > "$work/$skel.bpf.skel.h"
cp "$work/linked.o" "$bpf_obj"
# For loaders written against ktstr's shared loader: which skeleton and ops to open.
{
  echo "#include \"$skel.bpf.skel.h\""
  echo "#define KTSTR_SKEL $skel"
  echo "#define KTSTR_OPS $struct_ops"
  echo "#define KTSTR_SCHED_NAME \"$ops_name\""
  for h in $hdr_names; do echo "#include \"$h\""; done
} > "$work/ktstr_skel.h"
gcc -g -O2 "${maps[@]}" -pthread -Wall -I"$work" -I"$tc/include" -I"$root/tools/lib" -I"$root/tools/include" \
  -I"$root/tools/include/uapi" -I"$root/tools/sched_ext/include" "${incs[@]}" \
  "$@" -o "$out" "$tc/lib/libbpf.a" -lelf -lz -lpthread
