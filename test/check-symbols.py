#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# Checks the library's symbols:
# - src/mmvec.sym: nodes sorted, no duplicates, and exactly the functions
#   declared in include/mmvec.h;
# - the static library defines only global symbols that start with mmvec_;
# - a program linked against it statically defines every function of the
#   version script, imports none of them, defines no other global symbol
#   than the toolchain's (those of a baseline program) and mmvec_ ones, and
#   runs;
# - the shared library exports exactly the version script's functions, each
#   with its node's version.
# Exits 1 with one line per problem, 0 if all hold.

import argparse
import os
import re
import shlex
import subprocess
import sys

problems = []


def problem(msg):
    problems.append(msg)


def nm(nm_prog, *args):
    out = subprocess.run([nm_prog, *args], check=True, capture_output=True,
                         text=True).stdout
    syms = []
    for line in out.splitlines():
        fields = line.split()
        # "ADDR TYPE NAME" or "TYPE NAME" (undefined); skip "file.o:" lines
        if len(fields) == 3:
            syms.append((fields[1], fields[2]))
        elif len(fields) == 2 and len(fields[0]) == 1:
            syms.append((fields[0], fields[1]))
    return syms


def parse_sym(path):
    """{symbol: node} from a version script, plus the nodes in order."""
    text = re.sub(r'/\*.*?\*/', '', open(path).read(), flags=re.S)
    symbols, nodes = {}, []
    for m in re.finditer(r'(\w[\w.]*)\s*\{(.*?)\}\s*([\w.]*)\s*;', text,
                         flags=re.S):
        node, body = m.group(1), m.group(2)
        nodes.append(node)
        glob = re.search(r'global:(.*?)(local:|$)', body, flags=re.S)
        if not glob:
            problem(f'{path}: node {node} has no global: section')
            continue
        names = [n.strip() for n in glob.group(1).split(';') if n.strip()]
        if names != sorted(names):
            problem(f'{path}: node {node} is not sorted')
        for n in names:
            if n in symbols:
                problem(f'{path}: {n} listed twice')
            symbols[n] = node
        if not re.search(r'local:\s*\*\s*;', body) and node == nodes[0]:
            problem(f'{path}: node {node} does not end with "local: *;"')
    if not symbols:
        problem(f'{path}: no symbols found')
    return symbols, nodes


SANITIZER_PREFIXES = ('__x86.get_pc_thunk.',  # i386 PIC: gcc's, hidden
                      '__asan_', '__ubsan_', '__tsan_', '__lsan_',
                      '__sanitizer_')


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
    text = open(path).read()
    text = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    text = exported_declarations(text)
    return set(re.findall(r'\b(mmvec_\w+)\s*\(', text))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--nm', required=True)
    ap.add_argument('--sym', required=True)
    ap.add_argument('--header', required=True)
    ap.add_argument('--static-lib', required=True)
    ap.add_argument('--shared-lib')
    ap.add_argument('--program', required=True)
    ap.add_argument('--baseline', required=True)
    args = ap.parse_args()

    api, nodes = parse_sym(args.sym)
    api_names = set(api)

    declared = header_functions(args.header)
    for n in sorted(declared - api_names):
        problem(f'{n}: declared in the header, not in the version script')
    for n in sorted(api_names - declared):
        problem(f'{n}: in the version script, not declared in the header')

    # The static library
    static = nm(args.nm, '-g', '--defined-only', args.static_lib)
    static_names = {name for _, name in static}
    for name in sorted(static_names):
        # a sanitizer build's instrumentation defines these in every object
        if name.startswith(SANITIZER_PREFIXES):
            continue
        if not name.startswith('mmvec_'):
            problem(f'{args.static_lib}: global symbol {name} does not '
                    'start with mmvec_')
    for n in sorted(api_names - static_names):
        problem(f'{args.static_lib}: does not define {n}')

    # A program linked against it
    toolchain = {name for _, name in
                 nm(args.nm, '-g', '--defined-only', args.baseline)}
    prog = {name for _, name in nm(args.nm, '-g', '--defined-only',
                                   args.program)}
    # name@VERSION: copy-relocated data of a shared library (stderr@GLIBC)
    # names with __ are the implementation's: libgcc's helpers that only
    # this program pulls in (ARM's __aeabi_uidivmod); the library's own
    # are checked in the static library above
    prog = {n for n in prog if '@' not in n and not n.startswith('__')
            and not n.startswith(SANITIZER_PREFIXES)} - toolchain
    for name in sorted(prog):
        if not name.startswith('mmvec_'):
            problem(f'{args.program}: global symbol {name} does not start '
                    'with mmvec_')
    for n in sorted(api_names - prog):
        problem(f'{args.program}: does not define {n}: not linked '
                'statically?')
    imported = {name.split('@')[0] for _, name in
                nm(args.nm, '-D', '--undefined-only', args.program)}
    for n in sorted(imported & api_names):
        problem(f'{args.program}: imports {n} from a shared library')
    # a cross build's tests get the exe_wrapper (qemu-user) from Meson
    wrapper = shlex.split(os.environ.get('MESON_EXE_WRAPPER', ''))
    run = subprocess.run(wrapper + [args.program])
    if run.returncode != 0:
        problem(f'{args.program}: exited with {run.returncode}')

    # The shared library
    if args.shared_lib:
        exported, version_nodes = {}, set()
        for typ, name in nm(args.nm, '-D', '--defined-only', args.shared_lib):
            base, _, ver = name.partition('@')
            ver = ver.lstrip('@')
            if typ == 'A':
                # the version node itself: "A MMVEC_1.0" (or MMVEC_1.0@@...)
                version_nodes.add(base)
                continue
            exported[base] = ver
        for n in sorted(set(exported) - api_names):
            problem(f'{args.shared_lib}: exports {n}, which is not in the '
                    'version script')
        for n in sorted(api_names - set(exported)):
            problem(f'{args.shared_lib}: does not export {n}')
        for n in sorted(api_names & set(exported)):
            if exported[n] != api[n]:
                problem(f'{args.shared_lib}: {n} has version '
                        f'"{exported[n]}", not {api[n]}')
        if version_nodes != set(nodes):
            problem(f'{args.shared_lib}: version nodes {sorted(version_nodes)}'
                    f', version script {nodes}')

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f'{len(api)} symbols checked')
    return 0


if __name__ == '__main__':
    sys.exit(main())
