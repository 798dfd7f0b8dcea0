#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""ABI checks for libmmvec.

    check-abi.py symbols NM HEADER VERSION_SCRIPT SHARED_LIB
                 [STATIC_LIB [STATIC_PROGRAM TOOLCHAIN_PROGRAM]]
        The version script lists each node's symbols sorted, each once, and
        its first node ends with "local: *;". The public functions declared
        in HEADER, the global symbols of VERSION_SCRIPT and the defined
        dynamic symbols of SHARED_LIB must be the same set, each exported as
        the default version (name@@NODE) of the node the version script puts
        it in; nothing else may be exported but the version nodes
        themselves, and every node is defined. With STATIC_LIB, every global
        symbol it defines must start with "mmvec_" (public functions) or
        "mmvec__" (internal ones), so linking it statically takes no other
        name from a program. With STATIC_PROGRAM (a program that calls every
        function, linked with STATIC_LIB) and TOOLCHAIN_PROGRAM (one built
        the same way without the library): the program defines every public
        function, imports none of them from a shared library, defines no
        global symbol but the toolchain's and mmvec_ ones, and runs.

    check-abi.py diff ABIDIFF BASELINE SHARED_LIB HEADERS_DIR
        Compares SHARED_LIB with the abidw BASELINE. Any change to what the
        baseline holds (a removed function, a symbol version moved, a changed
        parameter or return type) fails; added functions are allowed. Exit 77
        (skipped) when SHARED_LIB is for another architecture than the
        baseline, or when it has no DWARF and so only its symbols could be
        compared (a symbols-only failure still fails).

    check-abi.py dll OBJDUMP VERSION_SCRIPT DLL
        A Windows DLL exports exactly the functions of VERSION_SCRIPT (the
        module-definition file is made from it): read from the export table
        that objdump -p prints.

    check-abi.py dump ABIDW SHARED_LIB HEADERS_DIR OUTPUT
        Writes the baseline OUTPUT from SHARED_LIB, which must carry DWARF
        (a debug or debugoptimized build).
"""

import os
import re
import shlex
import struct
import subprocess
import sys

SKIP = 77

# abidw's flags for the baseline: public types only (those of HEADERS_DIR),
# and nothing that depends on where or how it was built, so that the file
# only changes when the ABI does.
ABIDW_FLAGS = ['--drop-private-types', '--drop-undefined-syms',
               '--no-corpus-path', '--no-comp-dir-path', '--no-show-locs',
               '--short-locs',
               '--type-id-style', 'hash']

# ELF e_machine values and the names libabigail gives them.
ELF_MACHINES = {3: 'elf-intel-80386', 8: 'elf-mips', 20: 'elf-powerpc',
                21: 'elf-powerpc-64', 22: 'elf-ibm-s390', 40: 'elf-arm',
                62: 'elf-amd-x86_64', 183: 'elf-arm-aarch64',
                243: 'elf-risc-v', 258: 'elf-loongarch'}


# --------------------------------------------------------------------------
# ELF helpers

def elf_info(path):
    """(class bits, e_machine, set of section names) of an ELF file."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF':
        raise ValueError(f'{path} is not an ELF file')
    bits = 64 if data[4] == 2 else 32
    end = '<' if data[5] == 1 else '>'
    machine = struct.unpack_from(end + 'H', data, 18)[0]
    if bits == 64:
        shoff, = struct.unpack_from(end + 'Q', data, 40)
        shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHH', data, 58)
        sh_fmt, name_i, off_i = end + 'IIQQQQIIQQ', 0, 4
    else:
        shoff, = struct.unpack_from(end + 'I', data, 32)
        shentsize, shnum, shstrndx = struct.unpack_from(end + 'HHH', data, 46)
        sh_fmt, name_i, off_i = end + 'IIIIIIIIII', 0, 4
    headers = [struct.unpack_from(sh_fmt, data, shoff + i * shentsize)
               for i in range(shnum)]
    strtab_off = headers[shstrndx][off_i] if headers else 0
    names = set()
    for h in headers:
        start = strtab_off + h[name_i]
        names.add(data[start:data.index(b'\0', start)].decode())
    return bits, machine, names


def has_dwarf(path):
    return '.debug_info' in elf_info(path)[2]


# --------------------------------------------------------------------------
# symbols

def exported_declarations(text):
    """The header's text (comments already removed) with everything that is
    not a declaration of an exported function taken out: preprocessor lines
    (with their continuations), static inline functions and function bodies.
    """
    text = re.sub(r'^[ \t]*#(?:[^\n]*\\\n)*[^\n]*', ' ', text, flags=re.M)
    out, depth, i = [], 0, 0
    for ch in text:
        if ch == '{' and not re.search(r'(struct|union|enum)\s+\w*\s*$|extern\s+"C"\s*$',
                                         ''.join(out[-40:])) and depth == 0:
            depth = 1
            out.append(';')
            continue
        if depth:
            depth += (ch == '{') - (ch == '}')
            continue
        out.append(ch)
    text = ''.join(out)
    return re.sub(r'\bstatic\s+inline\b[^;]*;', ' ', text)


def header_functions(path):
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'//[^\n]*', ' ', text)
    text = exported_declarations(text)
    return set(re.findall(r'\b(mmvec_\w+)\s*\([^;{}]*\)\s*;', text))


def version_script(path, problems):
    """{symbol: node} for the global symbols of a version script, and the
    nodes in their order; what is malformed goes to problems."""
    with open(path, encoding='utf-8') as f:
        text = f.read()
    text = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    text = re.sub(r'#[^\n]*', ' ', text)
    symbols, nodes = {}, []
    for m in re.finditer(r'(\w[\w.]*)\s*\{(.*?)\}\s*[\w.]*\s*;', text, re.S):
        node, body = m.group(1), m.group(2)
        nodes.append(node)
        scope = 'global'
        names = []
        for item in re.split(r'[;\s]+', body):
            if not item:
                continue
            if item in ('global:', 'local:'):
                scope = item[:-1]
            elif scope == 'global':
                names.append(item)
        if names != sorted(names):
            problems.append(f'{path}: node {node} is not sorted')
        for name in names:
            if name in symbols:
                problems.append(f'{path}: {name} listed twice')
            symbols[name] = node
        if len(nodes) == 1 and not re.search(r'local:\s*\*\s*;', body):
            problems.append(f'{path}: node {node} does not end with '
                            '"local: *;"')
    if not symbols:
        problems.append(f'{path}: no symbols found')
    return symbols, nodes


SANITIZER_PREFIXES = ('__x86.get_pc_thunk.',  # i386 PIC: gcc's, hidden
                      '__asan_', '__ubsan_', '__tsan_', '__lsan_',
                      '__sanitizer_')


def nm_undefined(nm, path):
    """The names a program imports ("U NAME" lines of nm -D)."""
    out = subprocess.run([nm, '-D', '--undefined-only', path], check=True,
                         capture_output=True, text=True).stdout
    return [line.split()[-1] for line in out.splitlines() if line.strip()]


def nm_lines(nm, args):
    out = subprocess.run([nm] + args, check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3:
            yield fields[1], fields[2]


def check_symbols(nm, header, script, shared, static=None, program=None,
                  toolchain=None):
    problems = []
    declared = header_functions(header)
    versions, node_order = version_script(script, problems)
    nodes = set(node_order)
    if not declared:
        problems.append(f'{header}: no function declarations found')

    for name in sorted(declared - set(versions)):
        problems.append(f'{name}: declared in the header but not in the '
                        'version script')
    for name in sorted(set(versions) - declared):
        problems.append(f'{name}: in the version script but not declared in '
                        'the header')

    exported, defined_nodes = {}, set()
    for kind, sym in nm_lines(nm, ['-D', '--defined-only', shared]):
        name, sep, version = sym.partition('@')
        if kind == 'A' and name in nodes and not sep:
            defined_nodes.add(name)  # the version node's own definition
            continue
        exported[name] = (kind, sym)
    for node in sorted(nodes - defined_nodes):
        problems.append(f'{node}: version node not defined by '
                        f'{os.path.basename(shared)}')
    for name in sorted(set(exported) - set(versions)):
        problems.append(f'{exported[name][1]}: exported by '
                        f'{os.path.basename(shared)} but not in the contract')
    for name, node in sorted(versions.items()):
        if name not in exported:
            problems.append(f'{name}@@{node}: not exported by '
                            f'{os.path.basename(shared)}')
            continue
        kind, sym = exported[name]
        if sym != f'{name}@@{node}':
            problems.append(f'{sym}: must be exported as {name}@@{node}')
        if kind != 'T':
            problems.append(f'{sym}: symbol type {kind}, expected T (a '
                            'function)')

    if static:
        defined = {}
        for kind, sym in nm_lines(nm, ['-g', '--defined-only', static]):
            defined.setdefault(sym, []).append(kind)
        for sym in sorted(defined):
            # i386 PIC thunks: gcc emits them in every object as hidden
            # COMDAT globals, one copy of each in a link
            if sym.startswith('__x86.get_pc_thunk.'):
                continue
            if not sym.startswith('mmvec_'):
                problems.append(f'{sym}: global symbol in '
                                f'{os.path.basename(static)} outside the '
                                'mmvec_ namespace')
            elif not sym.startswith('mmvec__') and sym not in declared:
                problems.append(f'{sym}: public-looking symbol in '
                                f'{os.path.basename(static)} that the '
                                'header does not declare (internal names '
                                'start with mmvec__)')
        for name in sorted(declared - set(defined)):
            problems.append(f'{name}: not defined in '
                            f'{os.path.basename(static)}')

    if program:
        problems += check_static_program(nm, program, toolchain, declared)

    for p in problems:
        print(p)
    if problems:
        print(f'{len(problems)} problem(s)')
        return 1
    print(f'{len(versions)} functions exported, each at its version node '
          f'({", ".join(sorted(nodes))}); nothing else exported')
    return 0


def check_static_program(nm, program, toolchain, declared):
    """What a static link of the library puts into a program."""
    problems = []
    base = os.path.basename(program)
    own = {sym for _, sym in nm_lines(nm, ['-g', '--defined-only', toolchain])}
    # name@VERSION: copy-relocated data of a shared library (stderr@GLIBC);
    # a sanitizer's runtime defines its own names in every program
    defined = {sym for _, sym in nm_lines(nm, ['-g', '--defined-only',
                                                program])
               if '@' not in sym and not sym.startswith(SANITIZER_PREFIXES)
               # names with __ are the implementation's: libgcc's helpers
               # that only this program pulls in (ARM's __aeabi_uidivmod);
               # the library's own are checked in the static library
               and not sym.startswith('__')}
    for sym in sorted(defined - own):
        if not sym.startswith('mmvec_'):
            problems.append(f'{sym}: global symbol in {base} (linked '
                            'statically) outside the mmvec_ namespace')
    for name in sorted(declared - defined):
        problems.append(f'{name}: not defined in {base}: not linked '
                        'statically?')
    imported = {sym.split('@')[0] for sym in nm_undefined(nm, program)}
    for name in sorted(imported & declared):
        problems.append(f'{name}: {base} imports it from a shared library')
    # a cross build's tests get the exe_wrapper (qemu-user) from Meson
    wrapper = shlex.split(os.environ.get('MESON_EXE_WRAPPER', ''))
    rc = subprocess.run(wrapper + [program]).returncode
    if rc != 0:
        problems.append(f'{base}: exited with {rc}')
    return problems


# --------------------------------------------------------------------------
# abidiff

def check_diff(abidiff, baseline, shared, headers):
    with open(baseline, encoding='utf-8') as f:
        head = f.read(4096)
    m = re.search(r"architecture='([^']*)'", head)
    base_arch = m.group(1) if m else None
    bits, machine, sections = elf_info(shared)
    arch = ELF_MACHINES.get(machine, f'e_machine {machine}')
    m = re.search(r"address-size='(\d+)'", head)
    base_bits = int(m.group(1)) if m else None
    if base_arch and (arch != base_arch or (base_bits and bits != base_bits)):
        print(f'the baseline is for {base_arch} ({base_bits}-bit), '
              f'{os.path.basename(shared)} for {arch} ({bits}-bit): '
              'not comparable, skipped')
        return SKIP

    # headers '-': compare every type (a probe whose types are all public;
    # matching DWARF paths to a headers directory can miss them)
    cmd = [abidiff, '--no-added-syms']
    if headers != '-':
        cmd += ['--drop-private-types', '--hd2', headers]
    cmd += [baseline, shared]
    print('$ ' + ' '.join(cmd), flush=True)
    rc = subprocess.run(cmd).returncode
    # abidiff's exit status is a bit field: 1 error, 2 usage error,
    # 4 ABI change, 8 incompatible ABI change. With --no-added-syms an added
    # function is not a change; anything else reported is a break of the
    # baseline's ABI (a changed return type is only bit 4, yet breaks
    # callers).
    if rc & 3:
        print(f'abidiff failed to run (exit status {rc})')
        return 1
    if rc & 8:
        print('INCOMPATIBLE ABI CHANGE: a function of the baseline was '
              'removed or changed its symbol version')
        return 1
    if rc & 4:
        print('ABI CHANGE: a function of the baseline changed its type. '
              'Keep the old ABI, or bump the soname (see meson.build)')
        return 1
    if '.debug_info' not in sections:
        print(f'{os.path.basename(shared)} has no DWARF: only its symbols '
              'were compared, types were not; skipped (build with -g)')
        return SKIP
    print('no ABI change against the baseline')
    return 0


# --------------------------------------------------------------------------
# abidw

def dump(abidw, shared, headers, output):
    if not has_dwarf(shared):
        print(f'{shared} has no DWARF: configure the build with '
              '--buildtype=debugoptimized (or debug) first')
        return 1
    cmd = [abidw, '--headers-dir', headers] + ABIDW_FLAGS + [
        '--out-file', output, shared]
    print('$ ' + ' '.join(cmd), flush=True)
    rc = subprocess.run(cmd).returncode
    if rc != 0:
        print(f'abidw failed (exit status {rc})')
        return 1
    print(f'wrote {output}; review it with git diff, then commit it')
    return 0


# --------------------------------------------------------------------------
# Windows DLL

def dll_exports(objdump, dll):
    """The names in a PE file's export table ([Ordinal/Name Pointer])."""
    out = subprocess.run([objdump, '-p', dll], check=True, text=True,
                         stdout=subprocess.PIPE).stdout
    names, in_table = set(), False
    for line in out.splitlines():
        if line.startswith('[Ordinal/Name Pointer] Table'):
            in_table = True
        elif in_table:
            m = re.fullmatch(r'\s*\[\s*\d+\]\s+(\S+)', line)
            if not m:
                break
            names.add(m.group(1))
    return names


def check_dll(objdump, script, dll):
    problems = []
    symbols, _ = version_script(script, problems)
    want = set(symbols)
    have = dll_exports(objdump, dll)
    base = os.path.basename(dll)
    if not want:
        problems.append(f'{script}: no mmvec_ names found')
    for name in sorted(want - have):
        problems.append(f'{name}: in the version script, not exported by '
                        f'{base}')
    for name in sorted(have - want):
        problems.append(f'{name}: exported by {base}, not in the version '
                        'script')
    for p in problems:
        print(p)
    print(f'{len(have)} exports, {len(want)} in the version script')
    return 1 if problems else 0


def main(argv):
    if len(argv) in (6, 7, 9) and argv[1] == 'symbols':
        return check_symbols(*argv[2:])
    if len(argv) == 6 and argv[1] == 'diff':
        return check_diff(*argv[2:])
    if len(argv) == 5 and argv[1] == 'dll':
        return check_dll(*argv[2:])
    if len(argv) == 6 and argv[1] == 'dump':
        return dump(*argv[2:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
