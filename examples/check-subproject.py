#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Builds and runs the consumer project in examples/subproject/ with this
source tree as its libmmvec subproject.

    check-subproject.py MESON SOURCE_ROOT

First checks that README.md shows what the consumer uses: one of its ```ini
blocks is subprojects/libmmvec.wrap (comments aside), and the dependency()
call of each of its ```meson blocks is in the consumer's meson.build (layout
and comments aside). Then copies examples/subproject/ to a temporary directory, copies the source tree
into its subprojects/libmmvec/ (next to the wrap file, as a user's copy,
release tarball or git submodule would be), then runs `meson setup` with
--force-fallback-for=mmvec (so that an installed libmmvec cannot stand in
for the subproject), `meson compile` and the consumer program.

Exit status: 0 when the consumer builds and runs, 77 (skip) when MESON is
empty (no meson program was found), 1 otherwise.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile


def ignore(directory, names):
    """The VCS directory and build directories are not part of the tree."""
    skip = {'.git', '__pycache__'}
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isdir(os.path.join(path, 'meson-private')):
            skip.add(name)
    return skip & set(names)


def fenced(text, lang):
    return re.findall(r'^```' + lang + r'\n(.*?)^```$', text, re.M | re.S)


def meaningful(text, comment):
    """The text without comments and layout."""
    text = re.sub(comment + r'.*', '', text)
    return re.sub(r'\s+', '', text)


def readme_matches(root, project):
    problems = []
    with open(os.path.join(root, 'README.md'), encoding='utf-8') as f:
        readme = f.read()
    with open(os.path.join(project, 'subprojects', 'libmmvec.wrap'),
              encoding='utf-8') as f:
        wrap = meaningful(f.read(), '[#;]')
    if not any(meaningful(b, '[#;]') == wrap for b in fenced(readme, 'ini')):
        problems.append('README.md shows no ```ini block equal to '
                        'examples/subproject/subprojects/libmmvec.wrap')
    with open(os.path.join(project, 'meson.build'), encoding='utf-8') as f:
        build = meaningful(f.read(), '#')
    calls = []
    for block in fenced(readme, 'meson'):
        calls += re.findall(r'dependency\((?:[^()]|\([^()]*\))*\)',
                            meaningful(block, '#'))
    if not calls:
        problems.append('README.md shows no dependency() call in a ```meson '
                        'block')
    for call in calls:
        if call not in build:
            problems.append(f'README.md shows {call}, which '
                            'examples/subproject/meson.build does not use')
    return problems


def step(cmd, cwd):
    print('$ ' + ' '.join(cmd), flush=True)
    proc = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        print(proc.stdout)
        print(f'failed with exit status {proc.returncode}')
        return False
    return True


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    meson, root = argv[1], os.path.abspath(argv[2])
    if not meson:
        print('SKIP: no meson program in PATH to build the consumer with')
        return 77
    with tempfile.TemporaryDirectory(prefix='mmvec-subproject-') as tmp:
        project = os.path.join(tmp, 'consumer')
        shutil.copytree(os.path.join(root, 'examples', 'subproject'),
                        project, ignore=ignore)
        wrap = os.path.join(project, 'subprojects', 'libmmvec.wrap')
        if not os.path.isfile(wrap):
            print(f'{wrap}: missing')
            return 1
        problems = readme_matches(root, project)
        for p in problems:
            print(p)
        if problems:
            return 1
        shutil.copytree(root, os.path.join(project, 'subprojects',
                                           'libmmvec'),
                        ignore=ignore, symlinks=True)
        build = os.path.join(tmp, 'build')
        if not step([meson, 'setup', '--force-fallback-for=mmvec', build],
                    project):
            return 1
        if not step([meson, 'compile', '-C', build, '-j', '2'], project):
            return 1
        proc = subprocess.run([os.path.join(build, 'consumer')],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        print(proc.stdout, end='')
        if proc.returncode != 0:
            print(f'consumer: exit status {proc.returncode}')
            return 1
        # The consumer must have linked the library the subproject built.
        if not any(f.startswith('libmmvec.') for f in os.listdir(
                os.path.join(build, 'subprojects', 'libmmvec'))):
            print('the subproject built no libmmvec')
            return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
