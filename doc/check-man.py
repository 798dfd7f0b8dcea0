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
        each .TH line names "libmmvec VERSION". Within ERRORS, each code's
        entry says which of the page's functions it applies to when not all
        of them can fail with it, names no function that the header does
        not document it for, and names every parameter the header's clause
        for that code names (a condition such as "also when n is 0" cannot
        be left out); every MMVEC_* flag a function's @return names appears
        in the page's RETURN VALUE or ERRORS. The overview page mmvec.3
        names every function and flag that the header's introduction,
        Conventions and Threads sections name, in its DESCRIPTION,
        Conventions and THREADS.

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

class HeaderFunction:
    def __init__(self, decl, ret='', macro=False):
        self.macro = macro
        self.decl = normalise(decl)
        self.ret = ret                           # the @return text
        self.errors = set(ERRNO_RE.findall(ret))
        self.params = parameter_names(self.decl)

    def clauses(self):
        """{errno name: the text of @return that describes it}"""
        out = {}
        ms = list(ERRNO_RE.finditer(self.ret))
        for k, m in enumerate(ms):
            end = ms[k + 1].start() if k + 1 < len(ms) else len(self.ret)
            out[m.group(0)] = out.get(m.group(0), '') + \
                self.ret[m.end():end]
        return out

    def clause_params(self, code):
        """The parameters the clause for code names: as @p NAME, or inside
        `code spans`, except as arguments of a call (`mmvec_len(v)`
        names the vector, not a condition on it)."""
        clause = self.clauses().get(code, '')
        names = set(re.findall(r'@p\s+(\w+)', clause))
        for span in re.findall(r'`([^`]*)`', clause):
            span = re.sub(r'\w+\([^()]*\)', '', span)
            names |= set(re.findall(r'\b\w+\b', span))
        return names & set(self.params)

    def flags(self):
        return set(re.findall(r'#(MMVEC_[A-Z_]+)', self.ret))


def parameter_names(decl):
    inside = decl[decl.index('(') + 1:decl.rindex(')')]
    names = []
    for param in inside.split(','):
        m = re.search(r'(\w+)\s*$', param.strip())
        if m and m.group(1) != 'void':
            names.append(m.group(1))
    return names


def header_functions(path):
    """{name: HeaderFunction}"""
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
        funcs[m.group('name')] = HeaderFunction(m.group('decl'), ret)
    # A declaration without a doc comment is still part of the API.
    for m in re.finditer(r'^[A-Za-z_][^;{}#/]*?\b(mmvec_\w+)\s*\([^;]*\)\s*;',
                         text, re.M):
        if m.group(1) not in funcs:
            funcs[m.group(1)] = HeaderFunction(m.group(0))
    # documented function-like macros (@def name(args)) are API too; they
    # have no C type to compare with a SYNOPSIS
    for m in re.finditer(r'@def\s+((mmvec_\w+)\s*\([^)]*\))', text):
        if m.group(2) not in funcs:
            funcs[m.group(2)] = HeaderFunction(m.group(1), macro=True)
    # mmvec__ names are the inline functions' helpers, not API
    return {k: v for k, v in funcs.items() if not k.startswith('mmvec__')}


def header_sections(path):
    """{'intro' | section id: text} of the header's @mainpage comment."""
    text = read(path)
    m = re.search(r'/\*\*\s*\*\s*@mainpage(?P<body>(?:(?!\*/).)*)\*/', text,
                  re.S)
    if not m:
        return {}
    body = re.sub(r'^\s*\* ?', '', m.group('body'), flags=re.M)
    parts = re.split(r'@section\s+(\w+)[^\n]*\n', body)
    out = {'intro': parts[0]}
    for k in range(1, len(parts) - 1, 2):
        out[parts[k]] = parts[k + 1]
    return out


def named_things(text):
    """The functions (NAME()) and MMVEC_* macros a text names."""
    return (set(re.findall(r'\b(mmvec_\w+)\s*\(', text)) |
            set(re.findall(r'\b(MMVEC_[A-Z_]+)', text)))


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


def sections(text, macro='.SH'):
    """{section name: [lines]} of a man page (.SS for subsections)."""
    out = {}
    current = None
    for line in text.splitlines():
        # a subsection ends at the next .SS or .SH, a section at the next .SH
        if line.startswith('.SH') or line.startswith(macro):
            current = None
        if line.startswith(macro + ' '):
            current = ' '.join(roff_args(line[3:]))
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


def font_text(line):
    """The text of a font macro line (.B, .BR, ...), or None for any other
    line."""
    macro, _, rest = line.partition(' ')
    if macro in ('.B', '.I'):
        # one font: the arguments are joined with spaces
        return ' '.join(roff_args(rest))
    if macro in ('.BI', '.BR', '.IB', '.IR', '.RB', '.RI'):
        # alternating fonts: the arguments are joined without spaces
        return ''.join(roff_args(rest))
    return None


def plain(lines):
    """The text of roff lines, fonts and escapes removed."""
    text = []
    for line in lines:
        t = font_text(line)
        if t is not None:
            text.append(t)
        elif not line.startswith('.'):
            text.append(line)
    joined = '\n'.join(text).replace('\\c\n', '')
    return unescape(joined)


def error_entries(lines):
    """(lead text, {errno name: entry text}) of an ERRORS section."""
    lead, entries = [], {}
    current = None
    k = 0
    while k < len(lines):
        line = lines[k]
        if line.startswith('.TP') and k + 1 < len(lines):
            code = ERRNO_RE.findall(lines[k + 1])
            current = code[0] if code else None
            if current:
                entries[current] = []
            k += 2
            continue
        if line.startswith('.PP'):
            current = None
        elif current is not None:
            entries[current].append(line)
        elif not entries:
            lead.append(line)
        k += 1
    return plain(lead), {c: plain(t) for c, t in entries.items()}


def synopsis_prototypes(lines):
    """Function prototypes in a SYNOPSIS, as plain text."""
    text = []
    for line in lines:
        t = font_text(line)
        if t is not None:
            text.append(t)
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
            decl = funcs[func].decl
            expected_errors |= funcs[func].errors
            if func not in protos:
                problems.append(f'{base}: SYNOPSIS has no prototype of '
                                f'{func}')
            elif not funcs[func].macro and protos[func] != decl:
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
        problems += check_error_entries(base, secs, [f for f in listed
                                                     if f in funcs], funcs)
    problems += check_overview(header, by_name)
    return problems


def check_error_entries(base, secs, listed, funcs):
    problems = []
    lead, entries = error_entries(secs['ERRORS'])
    # "mmvec_new() fails with:" limits the whole section to those functions
    scope = [f for f in listed if f in named_things(lead)] or \
        [f for f in listed if funcs[f].errors]
    for code, entry in sorted(entries.items()):
        applies = [f for f in scope if code in funcs[f].errors]
        named = named_things(entry)
        if set(applies) != set(scope):
            for f in applies:
                if f not in named:
                    problems.append(f'{base}: ERRORS entry {code} does not '
                                    f'say it applies to {f}() (not every '
                                    'function on the page can fail with it)')
        for f in listed:
            if f in named and code not in funcs[f].errors:
                problems.append(f'{base}: ERRORS entry {code} names {f}(), '
                                f'whose header @return has no {code}')
        words = set(re.findall(r'\b\w+\b', entry))
        for f in applies:
            for param in sorted(funcs[f].clause_params(code) - words):
                problems.append(f'{base}: ERRORS entry {code} does not name '
                                f'{param}, which the header names for {f}()')
    text = plain(secs.get('RETURN VALUE', []) + secs.get('ERRORS', []))
    for f in listed:
        for flag in sorted(funcs[f].flags() - named_things(text)):
            problems.append(f'{base}: RETURN VALUE and ERRORS do not mention '
                            f'{flag}, which the header\'s @return of {f}() '
                            'does')
    return problems


def check_overview(header, by_name):
    """mmvec.3 names what the header's @mainpage names."""
    if 'mmvec.3' not in by_name:
        return []
    hsecs = header_sections(header)
    text = read(by_name['mmvec.3'])
    pairs = [('intro', sections(text).get('DESCRIPTION'), 'DESCRIPTION'),
             ('conventions', sections(text, '.SS').get('Conventions'),
              'Conventions'),
             ('threads', sections(text).get('THREADS'), 'THREADS')]
    problems = []
    for hsec, lines, msec in pairs:
        if hsec not in hsecs:
            continue
        if lines is None:
            problems.append(f'mmvec.3: no {msec} section')
            continue
        # The page cross-references the layers' pages in its DESCRIPTION;
        # only what the header names must be there.
        missing = named_things(hsecs[hsec]) - named_things(plain(lines))
        for thing in sorted(missing):
            problems.append(f'mmvec.3: {msec} does not name {thing}, which '
                            f'the header\'s {hsec} section does')
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
