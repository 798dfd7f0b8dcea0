#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks libmmvec's man pages.

    check-man.py lint PAGE...
        Formats every page with groff (-man -ww, UTF-8 output) and fails on
        any warning; checks that .so pages point to a page in the same set;
        with lexgrog available, checks that each page's NAME line parses.

    check-man.py header HEADER VERSION PAGE...
        Checks the pages against the public header: every function declared
        in HEADER has a page of its own name, each page's NAME lists only
        declared functions, each SYNOPSIS prototype is the header's
        declaration, the error codes in each ERRORS section are exactly those
        the header documents under @return for the page's functions, and
        each .TH line names "libmmvec VERSION".

Exit status: 0 when everything passes, 1 otherwise. Every problem is
printed, one per line, as "PAGE: message".
"""

import os
import re
import shutil
import subprocess
import sys

SO_RE = re.compile(r'^\.so\s+man3/(\S+)\s*$')
ERRNO_RE = re.compile(r'\bE(?:INVAL|NOENT|RANGE|OVERFLOW|NOSPC|NOMEM|[A-Z]{3,})\b')


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def so_target(text):
    """The page a .so stub points to, or None for a real page."""
    lines = [l for l in text.splitlines() if l and not l.startswith('.\\"')]
    if len(lines) == 1:
        m = SO_RE.match(lines[0])
        if m:
            return m.group(1)
    return None


# --------------------------------------------------------------------------
# lint

def lint(pages):
    problems = []
    names = {os.path.basename(p): p for p in pages}
    env = dict(os.environ, LC_ALL='C.UTF-8')
    lexgrog = shutil.which('lexgrog')
    for page in pages:
        text = read(page)
        base = os.path.basename(page)
        target = so_target(text)
        if target is not None:
            if target not in names:
                problems.append(f'{base}: .so points to {target}, which is '
                                'not one of the pages')
            elif so_target(read(names[target])) is not None:
                problems.append(f'{base}: .so points to {target}, which is '
                                'itself a .so page')
            continue
        if '.so ' in text:
            problems.append(f'{base}: .so inside a real page')
        proc = subprocess.run(
            ['groff', '-man', '-ww', '-z', '-Tutf8', page],
            env=env, capture_output=True, text=True)
        for line in proc.stderr.splitlines():
            problems.append(f'{base}: groff: {line}')
        if proc.returncode != 0:
            problems.append(f'{base}: groff exited with {proc.returncode}')
        if lexgrog:
            proc = subprocess.run([lexgrog, page], env=env,
                                  capture_output=True, text=True)
            if proc.returncode != 0:
                problems.append(f'{base}: lexgrog cannot parse the NAME '
                                f'section: {proc.stdout.strip()}')
    return problems


# --------------------------------------------------------------------------
# header

def header_functions(path):
    """{name: (normalised declaration, set of errno names under @return)}"""
    text = read(path)
    funcs = {}
    decl_re = re.compile(
        r'/\*\*(?P<doc>(?:(?!\*/).)*)\*/\s*'
        r'(?P<decl>[A-Za-z_][^;{}#/]*?\b(?P<name>mmvec_\w+)\s*\([^;]*\)\s*;)',
        re.S)
    for m in decl_re.finditer(text):
        doc = m.group('doc')
        ret = doc.split('@return', 1)[1] if '@return' in doc else ''
        # the @return part ends at the next tag that is not part of it
        ret = re.split(r'@(?:note|param|see)\b', ret)[0]
        funcs[m.group('name')] = (normalise(m.group('decl')),
                                  set(ERRNO_RE.findall(ret)))
    # A declaration without a doc comment is still part of the API.
    for m in re.finditer(r'^[A-Za-z_][^;{}#/]*?\b(mmvec_\w+)\s*\([^;]*\)\s*;',
                         text, re.M):
        funcs.setdefault(m.group(1), (normalise(m.group(0)), set()))
    # documented function-like macros (@def name(args)) are API too
    for m in re.finditer(r'@def\s+(mmvec_\w+)\s*\(', text):
        funcs.setdefault(m.group(1), ('', set()))
    # mmvec__ names are the inline functions' helpers, not API
    return {k: v for k, v in funcs.items() if not k.startswith('mmvec__')}


def normalise(decl):
    decl = re.sub(r'\s+', ' ', decl).strip()
    decl = re.sub(r'\s*([(),;*])\s*', r'\1', decl)
    decl = decl.replace(',', ', ').replace('*', ' *')
    return re.sub(r'\* \*', '**', decl).replace('  ', ' ')


def roff_args(line):
    """The arguments of a macro line, quotes removed."""
    args = []
    for m in re.finditer(r'"((?:[^"]|"")*)"|(\S+)', line):
        args.append(m.group(1) if m.group(1) is not None else m.group(2))
    return args


def unescape(s):
    return (s.replace('\\-', '-').replace('\\e', '\\').replace('\\ ', ' ')
            .replace('\\&', '').replace('\\(mu', 'x'))


def sections(text):
    """{section name: [lines]} of a man page."""
    out = {}
    current = None
    for line in text.splitlines():
        if line.startswith('.SH'):
            current = ' '.join(roff_args(line[3:]))
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def synopsis_prototypes(lines):
    """Function prototypes in a SYNOPSIS, as plain text."""
    text = []
    for line in lines:
        macro, _, rest = line.partition(' ')
        if macro in ('.B', '.I'):
            # one font: the arguments are joined with spaces
            text.append(' '.join(roff_args(rest)))
        elif macro in ('.BI', '.BR', '.IB', '.IR', '.RB', '.RI'):
            # alternating fonts: the arguments are joined without spaces
            text.append(''.join(roff_args(rest)))
        elif line.startswith('.PP'):
            text.append('\n')
        elif not line.startswith('.'):
            text.append(line)
        text.append('\n' if line.endswith(';') or line.startswith('.PP')
                    else ' ')
    joined = unescape(''.join(text))
    protos = {}
    for m in re.finditer(r'[A-Za-z_][^;\n]*?\b(mmvec_\w+)\s*\([^;]*\)\s*;',
                         joined):
        protos[m.group(1)] = normalise(m.group(0))
    return protos


def check_header(header, version, pages):
    problems = []
    funcs = header_functions(header)
    if not funcs:
        return [f'{header}: no function declarations found']
    by_name = {os.path.basename(p): p for p in pages}

    for name in sorted(funcs):
        if name + '.3' not in by_name:
            problems.append(f'{name}.3: missing: every function needs a page '
                            'of its own name (a .so page will do)')

    for base, page in sorted(by_name.items()):
        text = read(page)
        target = so_target(text)
        if target is not None:
            func = base[:-2]
            if target in by_name:
                listed = name_functions(read(by_name[target]))
                if func not in listed:
                    problems.append(f'{base}: points to {target}, whose NAME '
                                    f'does not list {func}')
            continue

        th = [l for l in text.splitlines() if l.startswith('.TH ')]
        if len(th) != 1 or f'"libmmvec {version}"' not in th[0]:
            problems.append(f'{base}: .TH must name "libmmvec {version}" '
                            '(the project version)')

        listed = name_functions(text)
        if base == 'mmvec.3':
            continue  # the overview page: no prototypes of its own
        secs = sections(text)
        if not listed:
            problems.append(f'{base}: NAME lists no function')
        protos = synopsis_prototypes(secs.get('SYNOPSIS', []))
        expected_errors = set()
        for func in listed:
            if func not in funcs:
                problems.append(f'{base}: NAME lists {func}, which the '
                                'header does not declare')
                continue
            decl, errors = funcs[func]
            expected_errors |= errors
            if func not in protos:
                problems.append(f'{base}: SYNOPSIS has no prototype of '
                                f'{func}')
            elif decl and protos[func] != decl:  # a macro has no type
                problems.append(f'{base}: SYNOPSIS has "{protos[func]}", the '
                                f'header "{decl}"')
        for func in protos:
            if func not in listed:
                problems.append(f'{base}: SYNOPSIS declares {func}, which '
                                'NAME does not list')
        if 'ERRORS' not in secs:
            problems.append(f'{base}: no ERRORS section')
            continue
        documented = set()
        for line in secs['ERRORS']:
            documented |= set(ERRNO_RE.findall(line))
        for e in sorted(expected_errors - documented):
            problems.append(f'{base}: ERRORS lacks {e}, which the header '
                            'documents')
        for e in sorted(documented - expected_errors):
            problems.append(f'{base}: ERRORS has {e}, which the header does '
                            'not document for these functions')
    return problems


def name_functions(text):
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith('.SH') and 'NAME' in line:
            names = lines[i + 1].split('\\-', 1)[0]
            return [n.strip() for n in names.split(',') if n.strip()]
    return []


def main(argv):
    if len(argv) >= 3 and argv[1] == 'lint':
        problems = lint(argv[2:])
        what = f'{len(argv) - 2} pages formatted without warnings'
    elif len(argv) >= 5 and argv[1] == 'header':
        problems = check_header(argv[2], argv[3], argv[4:])
        what = f'{len(argv) - 4} pages agree with {os.path.basename(argv[2])}'
    else:
        sys.stderr.write(__doc__)
        return 2
    for p in problems:
        print(p)
    if problems:
        print(f'{len(problems)} problem(s)')
        return 1
    print(what)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
