#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The Windows DLL exports exactly the functions of src/mmvec.sym.

Reads the export table with objdump -p (the "[Ordinal/Name Pointer] Table"
section) and compares it with the names the version script lists, so the
module-definition file made from it cannot drift from the ELF exports.

  check-dll-exports.py OBJDUMP MMVEC_SYM LIBMMVEC_DLL
"""
import re
import subprocess
import sys


def sym_names(path):
    names = set()
    with open(path) as f:
        for line in f:
            m = re.fullmatch(r'\s*(mmvec_\w+);\s*', line)
            if m:
                names.add(m.group(1))
    return names


def dll_exports(objdump, dll):
    out = subprocess.run([objdump, '-p', dll], check=True, text=True,
                         stdout=subprocess.PIPE).stdout
    names = set()
    in_table = False
    for line in out.splitlines():
        if line.startswith('[Ordinal/Name Pointer] Table'):
            in_table = True
            continue
        if in_table:
            m = re.fullmatch(r'\s*\[\s*\d+\]\s+(\S+)', line)
            if not m:
                break
            names.add(m.group(1))
    return names


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__.strip().splitlines()[-1])
    objdump, sym, dll = sys.argv[1:]
    want = sym_names(sym)
    have = dll_exports(objdump, dll)
    if not want:
        sys.exit(f'{sym}: no mmvec_ names found')
    ok = True
    for name in sorted(want - have):
        print(f'missing from {dll}: {name}')
        ok = False
    for name in sorted(have - want):
        print(f'exported but not in {sym}: {name}')
        ok = False
    print(f'{len(have)} exports, {len(want)} in {sym}')
    sys.exit(0 if ok else 1)


if __name__ == '__main__':
    main()
