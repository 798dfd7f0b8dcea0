#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compiles and runs every C example in libmmvec's documentation.

    check-examples.py --cc CC [--cc ARG]... --include DIR --lib LIBRARY FILE...

FILE is README.md (or any Markdown file) or a man page. Every example is
compiled with CC against the header in DIR and linked with LIBRARY (a
libmmvec.so or libmmvec.a from the build tree).

Which blocks are examples, and of which kind:

  Markdown   Every fenced block must name its language (```c, ```sh, ...).
             A ```c block is a whole program unless the line before it is
             a fragment marker:  <!-- fragment: DECLARATIONS -->

  man page   Every .EX/.EE block must follow a marker comment line:
               .\\" example: program
               .\\" example: fragment: DECLARATIONS
               .\\" example: shell
             A block without one is an error, so that nothing is skipped
             without saying so.

A program is compiled with -std=c11 -Wall -Wextra -pedantic -Werror, linked,
and run with a few lines on standard input; it must exit with status 0.
A fragment is a piece of a function: it is compiled (not run) as the body
of `int example(void)`, after the common headers and, at file scope, the
DECLARATIONS the marker gives (the variables and types the surrounding text
assumes), with the same warnings as errors except for unused variables. Shell blocks are
commands for the reader, not run.

Exit status: 0 when every example passes, 1 otherwise.
"""

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile

PROGRAM_STDIN = 'first line\nsecond line\nthird line\n'
RUN_TIMEOUT = 120

FRAGMENT_HEADERS = ('assert.h', 'errno.h', 'stddef.h', 'stdint.h', 'stdio.h',
                    'stdlib.h', 'string.h', 'mmvec.h')

CFLAGS = ['-std=c11', '-Wall', '-Wextra', '-pedantic', '-Werror']
FRAGMENT_CFLAGS = CFLAGS + ['-Wno-unused-variable',
                            '-Wno-unused-but-set-variable']

MD_FENCE_RE = re.compile(r'^```(\S*)\s*$')
MD_FRAGMENT_RE = re.compile(r'^<!--\s*fragment:(.*?)-->\s*$')
MAN_MARKER_RE = re.compile(r'^\.\\"\s*example:\s*(program|shell|fragment:(.*))\s*$')


class Example:
    def __init__(self, source, line, kind, code, decls=''):
        self.source = source  # the file it comes from
        self.line = line      # its first line there
        self.kind = kind      # 'program', 'fragment' or 'shell'
        self.code = code
        self.decls = decls.strip()

    def name(self):
        return f'{os.path.basename(self.source)}:{self.line}'


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


# --------------------------------------------------------------------------
# extraction

def markdown_examples(path):
    examples, problems = [], []
    lines = read(path).splitlines()
    i = 0
    while i < len(lines):
        m = MD_FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, start = m.group(1), i + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != '```':
            end += 1
        if end == len(lines):
            problems.append(f'{path}:{i + 1}: code block never closed')
            break
        code = '\n'.join(lines[start:end]) + '\n'
        prev = lines[i - 1] if i > 0 else ''
        marker = MD_FRAGMENT_RE.match(prev)
        if not lang:
            problems.append(f'{path}:{i + 1}: code block without a language '
                            '(```c, ```sh, ...)')
        elif lang == 'c':
            if marker:
                examples.append(Example(path, start + 1, 'fragment', code,
                                        marker.group(1)))
            else:
                examples.append(Example(path, start + 1, 'program', code))
        elif marker:
            problems.append(f'{path}:{i + 1}: fragment marker before a '
                            f'```{lang} block')
        i = end + 1
    return examples, problems


def roff_unescape(line):
    out = []
    i = 0
    while i < len(line):
        c = line[i]
        if c != '\\':
            out.append(c)
            i += 1
            continue
        nxt = line[i + 1:i + 2]
        if nxt == 'e':
            out.append('\\')
            i += 2
        elif nxt in ('-', '.', "'"):
            out.append(nxt)
            i += 2
        elif nxt == '&':
            i += 2
        elif nxt == '(':
            glyph = line[i + 2:i + 4]
            names = {'aq': "'", 'dq': '"', 'rs': '\\', 'ti': '~',
                     'ha': '^', 'mi': '-', 'em': '--'}
            if glyph not in names:
                raise ValueError(f'unknown glyph \\({glyph}')
            out.append(names[glyph])
            i += 4
        else:
            raise ValueError(f'unknown escape \\{nxt}')
    return ''.join(out)


def man_examples(path):
    examples, problems = [], []
    lines = read(path).splitlines()
    marker = None
    marker_line = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        m = MAN_MARKER_RE.match(line)
        if m:
            marker = m
            marker_line = i + 1
        elif line.startswith('.\\"example') or 'example:' in line and \
                line.startswith('.\\"'):
            problems.append(f'{path}:{i + 1}: malformed example marker '
                            f'"{line}"')
        elif line.rstrip() == '.EX':
            start = i + 1
            end = start
            while end < len(lines) and lines[end].rstrip() != '.EE':
                end += 1
            if end == len(lines):
                problems.append(f'{path}:{i + 1}: .EX without .EE')
                break
            if marker is None:
                problems.append(f'{path}:{i + 1}: .EX block without an '
                                '".\\" example: program|fragment: ...|shell" '
                                'marker before it')
            else:
                code = []
                try:
                    for n in range(start, end):
                        if lines[n].startswith('.'):
                            raise ValueError(f'roff request "{lines[n]}" in '
                                             'the example')
                        code.append(roff_unescape(lines[n]))
                except ValueError as e:
                    problems.append(f'{path}:{n + 1}: {e}')
                else:
                    kind = marker.group(1)
                    decls = ''
                    if kind.startswith('fragment:'):
                        kind, decls = 'fragment', marker.group(2)
                    examples.append(Example(path, start + 1, kind,
                                            '\n'.join(code) + '\n', decls))
            marker = None
            i = end
        elif marker is not None and not line.startswith('.'):
            # A marker belongs to the next block: text in between means it
            # was left behind when the example was edited.
            problems.append(f'{path}:{marker_line}: example marker not '
                            'followed by an .EX block')
            marker = None
        i += 1
    if marker is not None:
        problems.append(f'{path}:{marker_line}: example marker not followed '
                        'by an .EX block')
    return examples, problems


# --------------------------------------------------------------------------
# compiling and running

def run(cmd, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)


def check_program(ex, cc, include, lib, tmp):
    src = os.path.join(tmp, 'example.c')
    exe = os.path.join(tmp, 'example')
    with open(src, 'w', encoding='utf-8') as f:
        f.write(f'#line {ex.line} "{os.path.basename(ex.source)}"\n')
        f.write(ex.code)
    lib = os.path.abspath(lib)
    libdir = os.path.dirname(lib)
    proc = run(cc + CFLAGS + ['-I', include, src, lib,
                              '-Wl,-rpath,' + libdir, '-o', exe])
    if proc.returncode != 0:
        return f'does not compile:\n{proc.stderr.rstrip()}'
    try:
        # a cross build's tests get the exe_wrapper (qemu-user) from Meson
        wrapper = shlex.split(os.environ.get('MESON_EXE_WRAPPER', ''))
        proc = run(wrapper + [exe], input=PROGRAM_STDIN, timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        return f'did not finish in {RUN_TIMEOUT} s'
    if proc.returncode != 0:
        return (f'exited with status {proc.returncode}\n'
                f'{proc.stdout.rstrip()}\n{proc.stderr.rstrip()}').rstrip()
    return None


def check_fragment(ex, cc, include, tmp):
    src = os.path.join(tmp, 'fragment.c')
    with open(src, 'w', encoding='utf-8') as f:
        for h in FRAGMENT_HEADERS:
            f.write(f'#include <{h}>\n')
        # At file scope, so that the context's variables are initialised
        # (to zero) and no compiler warns that the fragment reads them.
        f.write('#line 1 "(fragment context)"\n')
        f.write(ex.decls + '\n')
        f.write('int example(void);\nint example(void)\n{\n')
        f.write(f'#line {ex.line} "{os.path.basename(ex.source)}"\n')
        f.write(ex.code)
        f.write('#line 1 "(fragment end)"\n\treturn 0;\n}\n')
    proc = run(cc + FRAGMENT_CFLAGS + ['-I', include, '-fsyntax-only', src])
    if proc.returncode != 0:
        return f'does not compile:\n{proc.stderr.rstrip()}'
    return None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--cc', action='append', required=True,
                    help='the compiler (repeat for a command with arguments)')
    ap.add_argument('--include', required=True,
                    help='the directory holding mmvec.h')
    ap.add_argument('--lib', required=True, help='the built libmmvec')
    ap.add_argument('files', nargs='+')
    args = ap.parse_args(argv[1:])

    examples, problems = [], []
    for path in args.files:
        if path.endswith('.md'):
            found, probs = markdown_examples(path)
        else:
            found, probs = man_examples(path)
        examples += found
        problems += probs

    counts = {'program': 0, 'fragment': 0, 'shell': 0}
    with tempfile.TemporaryDirectory(prefix='mmvec-examples-') as tmp:
        for ex in examples:
            counts[ex.kind] += 1
            if ex.kind == 'shell':
                print(f'{ex.name()}: shell commands, not run')
                continue
            if ex.kind == 'program':
                err = check_program(ex, args.cc, args.include, args.lib, tmp)
            else:
                err = check_fragment(ex, args.cc, args.include, tmp)
            if err:
                problems.append(f'{ex.name()}: {ex.kind} {err}')
            else:
                done = 'compiled and ran' if ex.kind == 'program' \
                    else 'compiled'
                print(f'{ex.name()}: {ex.kind} {done}')

    for p in problems:
        print(p)
    if problems:
        print(f'{len(problems)} problem(s)')
        return 1
    if counts['program'] + counts['fragment'] == 0:
        print('no C example found')
        return 1
    print(f'{counts["program"]} programs compiled and ran, '
          f'{counts["fragment"]} fragments compiled, '
          f'{counts["shell"]} shell blocks listed')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
