#!/usr/bin/env python3
"""The install test: installs xgrad into a temporary directory (meson install --destdir) and
builds the user project in consumer/ against that installation only, twice: through
pkg-config and through CMake's find_package. Then, for each build:

- every header the compiler read lies in the installation, comes with the compiler and C/C++
  runtime, or belongs to a Debian package that the build asked for (a Requires of xgrad.pc, or
  a package that find_package found); so a header used but not installed, or a dependency
  missing from xgrad.pc or xgradConfig.cmake, fails;
- the link line names every library that libxgrad.so itself needs;
- the program runs against the installed library and its loss falls.

The consumer sets no define of its own: one the user would have to repeat (XTENSOR_USE_XSIMD
changes the Tensor type) shows up as a link error.

usage: check_install.py BUILD_DIR WORK_DIR COMPILER...   (COMPILER: meson's C++ command)
Prints what it checked; exits 1 with the reason on the first failure.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONSUMER = HERE / 'consumer'

# Packages of the compiler and the C/C++ runtime: their headers need no declaration.
TOOLCHAIN_PACKAGE = re.compile(
    r'^(libc6-dev|linux-libc-dev|libstdc\+\+-\d+-dev|libgcc-\d+-dev|gcc-\d+|g\+\+-\d+|'
    r'libclang-common-\d+-dev|libc\+\+-\d+-dev|libc\+\+abi-\d+-dev)$')
# Libraries every C++ program links anyway.
TOOLCHAIN_LIBS = {'c', 'm', 'stdc++', 'gcc_s', 'pthread', 'dl', 'rt'}


class Failure(Exception):
    pass


def run(cmd, env=None, cwd=None):
    result = subprocess.run([str(c) for c in cmd], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode != 0:
        raise Failure(f'{" ".join(map(str, cmd))} failed (exit {result.returncode}):\n'
                      f'{result.stdout}')
    return result.stdout


def install(build_dir, destdir):
    """Installs into destdir; returns the staged prefix, libdir and includedir."""
    run(['meson', 'install', '-C', build_dir, '--no-rebuild', '--quiet', '--destdir', destdir])
    options = {o['name']: o['value'] for o in
               json.loads(run(['meson', 'introspect', '--buildoptions', build_dir]))}
    prefix = Path(str(destdir) + options['prefix'])
    return prefix, prefix / options['libdir'], prefix / options['includedir']


def owners(paths):
    """Debian package -> the files among `paths` it owns; unowned files under None."""
    result = {}
    found = subprocess.run(['dpkg-query', '-S', *paths], text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL).stdout
    owned = set()
    for line in found.splitlines():
        if ': ' not in line or line.startswith('diversion'):
            continue
        packages, path = line.split(': ', 1)
        if path not in paths:
            continue
        owned.add(path)
        for p in packages.split(', '):
            result.setdefault(p.split(':')[0], []).append(path)
    unowned = [p for p in paths if p not in owned]
    if unowned:
        result[None] = unowned
    return result


def package_names(package):
    """The pkg-config and CMake package names a Debian package provides, lower case."""
    names = set()
    for f in run(['dpkg-query', '-L', package]).splitlines():
        f = Path(f)
        if f.suffix == '.pc' and f.parent.name == 'pkgconfig':
            names.add(f.stem.lower())
        for suffix in ('Config.cmake', '-config.cmake'):
            if f.name.endswith(suffix) and f.parent.parent.name == 'cmake':
                names.add(f.name[:-len(suffix)].lower())
    return names


def check_headers(headers, prefix, declared, how):
    """Every header is installed under prefix, part of the toolchain, or declared."""
    outside = sorted({os.path.normpath(h) for h in headers if not h.endswith('.cpp') and
                      not os.path.realpath(h).startswith(str(prefix) + os.sep)})
    for package, files in sorted(owners(outside).items(), key=lambda kv: str(kv[0])):
        if package is None:
            raise Failure(f'{how}: headers neither installed nor from a Debian package: '
                          f'{", ".join(files[:5])}')
        if TOOLCHAIN_PACKAGE.match(package):
            continue
        if not package_names(package) & declared:
            raise Failure(f'{how}: {len(files)} headers such as {files[0]} come from the Debian '
                          f'package {package}, which the build did not ask for (asked for: '
                          f'{", ".join(sorted(declared))})')
    return len(outside)


def needed_libraries(library):
    """The library names ('fmt', 'z', ...) in DT_NEEDED of `library`, without the toolchain."""
    needed = re.findall(r'NEEDED\s+(\S+)', run(['objdump', '-p', library]))
    names = {re.sub(r'^lib(.*?)\.so.*$', r'\1', n) for n in needed}
    return {n for n in names if n not in TOOLCHAIN_LIBS and not n.startswith('ld-linux')}


def check_link_line(link_line, library, how):
    linked = set(re.findall(r'(?:^|\s)-l(\S+)', link_line))
    linked |= set(re.findall(r'/lib([^/\s]+?)\.(?:so|a)\b', link_line))
    missing = needed_libraries(library) - linked
    if missing:
        raise Failure(f'{how}: the link line lacks {", ".join(sorted(missing))}, which '
                      f'libxgrad needs:\n{link_line}')


def check_runs(program, libdir, how):
    env = dict(os.environ, LD_LIBRARY_PATH=str(libdir))
    loaded = run(['ldd', program], env=env)
    if f'{libdir}/libxgrad.so' not in loaded:
        raise Failure(f'{how}: the program does not load the installed libxgrad:\n{loaded}')
    out = run([program], env=env)
    losses = [float(v) for v in re.findall(r'^step \d+ loss (\S+)$', out, re.M)]
    if len(losses) < 2 or not losses[-1] < 0.5 * losses[0]:
        raise Failure(f'{how}: the loss did not fall by half:\n{out}')
    return losses


def requires_closure(env, package):
    """The package's Requires, recursively (pkg-config names, lower case)."""
    pending, seen = [package], set()
    while pending:
        for line in run(['pkg-config', '--print-requires', pending.pop()], env=env).splitlines():
            name = line.split()[0].lower() if line.split() else ''
            if name and name not in seen:
                seen.add(name)
                pending.append(name)
    return seen


def read_depfile(path):
    """The headers in a compiler's make-style dependency file."""
    text = Path(path).read_text().replace('\\\n', ' ')
    return text.split(':', 1)[1].split()


def build_with_pkg_config(work, prefix, libdir, compiler):
    how = 'pkg-config'
    pc_dir = libdir / 'pkgconfig'
    pc = (pc_dir / 'xgrad.pc').read_text()
    if not re.search(r'^prefix=\$\{pcfiledir\}', pc, re.M):
        # Built without pkgconfig.relocatable: the prefix is absolute (and lacks the destdir),
        # so use a copy whose prefix line names the staged prefix.
        pc_dir = work / 'relocated-pc'
        pc_dir.mkdir(parents=True)
        (pc_dir / 'xgrad.pc').write_text(re.sub(r'^prefix=.*$', f'prefix={prefix}', pc,
                                                count=1, flags=re.M))
    env = dict(os.environ, PKG_CONFIG_PATH=str(pc_dir))
    env.pop('PKG_CONFIG_SYSROOT_DIR', None)
    path = run(['pkg-config', '--path', 'xgrad'], env=env).strip()
    if not path.startswith(str(work)):
        raise Failure(f'{how}: found {path} instead of the installed xgrad.pc')
    cflags = run(['pkg-config', '--cflags', 'xgrad'], env=env).split()
    libs = run(['pkg-config', '--libs', 'xgrad'], env=env).split()
    out = work / 'pkg-config'
    out.mkdir(parents=True)
    program = out / 'train_my_layer'
    # The language standard is the user's choice of compiler flag; a .pc file carries none.
    run([*compiler, '-std=c++20', '-MD', '-MF', out / 'deps.d', *cflags,
         CONSUMER / 'train_my_layer.cpp', '-o', program, *libs])
    n = check_headers(read_depfile(out / 'deps.d'), prefix, requires_closure(env, 'xgrad'), how)
    check_link_line(' '.join(libs), libdir / 'libxgrad.so', how)
    return n, check_runs(program, libdir, how)


def build_with_cmake(work, prefix, libdir, compiler):
    how = 'CMake'
    out = work / 'cmake'
    launcher = []
    if Path(compiler[0]).name == 'ccache':
        launcher = [f'-DCMAKE_CXX_COMPILER_LAUNCHER={compiler[0]}']
        compiler = compiler[1:]
    env = dict(os.environ)
    env.pop('CMAKE_PREFIX_PATH', None)
    run(['cmake', '-G', 'Ninja', '-S', CONSUMER, '-B', out, f'-DCMAKE_PREFIX_PATH={prefix}',
         f'-DCMAKE_CXX_COMPILER={compiler[0]}', *launcher,
         f'-DCMAKE_PROJECT_INCLUDE={HERE / "report_packages.cmake"}'], env=env)
    build_log = run(['cmake', '--build', out, '--verbose'], env=env)
    link_line = next((line for line in build_log.splitlines() if '-o train_my_layer ' in line),
                     None)
    if link_line is None:
        raise Failure(f'{how}: no link command in the build log:\n{build_log}')
    deps = run(['ninja', '-C', out, '-t', 'deps'])
    # Paths are relative to the build directory unless absolute.
    headers = [os.path.join(out, line.strip()) for line in deps.splitlines()
               if line.startswith('    ')]
    if not headers:
        raise Failure(f'{how}: ninja recorded no headers for the consumer:\n{deps}')
    found = {p.lower() for p in (out / 'packages_found.txt').read_text().split(';') if p}
    n = check_headers(headers, prefix, found, how)
    check_link_line(link_line, libdir / 'libxgrad.so', how)
    return n, check_runs(out / 'train_my_layer', libdir, how)


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    build_dir, work, compiler = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    shutil.rmtree(work, ignore_errors=True)
    try:
        prefix, libdir, includedir = install(build_dir, work / 'root')
        print(f'installed into {prefix}')
        for name, build in (('pkg-config', build_with_pkg_config), ('CMake', build_with_cmake)):
            n, losses = build(work, prefix, libdir, compiler)
            print(f'{name}: built against the installation ({n} headers from outside it, each '
                  f'from the toolchain or a declared dependency); loss {losses[0]:.4f} -> '
                  f'{losses[-1]:.4f} in {len(losses)} steps')
    except Failure as e:
        print(f'error: install test: {e}')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
