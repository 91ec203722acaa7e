#!/usr/bin/env python3
"""The Debian package CPack builds (cmake/install.cmake, docs/install.md), in three steps that
share one .deb:
- build: `cpack -G DEB` into WORK/pkg; the control fields (name, version = `netsim --version`,
  maintainer, description, Depends computed by dpkg-shlibdeps naming libc6, libstdc++6 and
  libssl3) are checked;
- extract: `dpkg-deb -x` into a scratch root; the installed bin/netsim runs `netsim check` on the
  installed examples (every bundled scenario: all pass, the guards skipped) and validates one
  against the installed schema through the examples' `$schema` link; the run leaves no file in
  the tree; removing what `dpkg-deb -c` lists leaves the scratch root empty;
- dpkg (root only): `dpkg -i`, the same checks from /usr and `man -w netsim`, `dpkg --purge`, then no file of the
  package is left and dpkg no longer knows it. Skipped (exit 77, with the reason) unless
  NETSIM_PACKAGE_REQUIRED=1 (set by .ci/run), because it installs into the machine itself; with
  it set, not being root is a failure.
usage: check_deb.py build|extract|dpkg NETSIM SOURCE_DIR BUILD_DIR WORK_DIR"""
import glob
import json
import os
import shutil
import subprocess
import sys

SKIP = 77


def fail(message):
    print(f"package: FAIL: {message}")
    sys.exit(1)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail(f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout}{r.stderr}")
    return r.stdout


def the_deb(work):
    debs = glob.glob(os.path.join(work, "pkg", "*.deb"))
    if len(debs) != 1:
        fail(f"expected one .deb in {work}/pkg, found {debs}")
    return debs[0]


def bundled_count(source):
    """(scenarios that run, scenarios skipped) among the bundled ones, as `check` counts them."""
    run_, skipped = 0, 0
    for root, dirs, files in os.walk(os.path.join(source, "scenarios")):
        dirs[:] = [d for d in dirs if d != "schema"]
        n = len([f for f in files if f.endswith(".json")])
        if os.path.exists(os.path.join(root, ".netsim-check-skip")):
            skipped += n
        else:
            run_ += n
    return run_, skipped


def build(netsim, source, build_dir, work):
    shutil.rmtree(os.path.join(work, "pkg"), ignore_errors=True)
    run(["cpack", "-G", "DEB", "--config", os.path.join(build_dir, "CPackConfig.cmake"),
         "-B", os.path.join(work, "pkg")])
    deb = the_deb(work)
    fields = {}
    for line in run(["dpkg-deb", "-f", deb, "Package", "Version", "Maintainer", "Depends",
                     "Description", "Architecture"]).splitlines():
        if ": " in line and not line.startswith(" "):
            key, value = line.split(": ", 1)
            fields[key] = value
    version = run([netsim, "--version"]).strip()
    checks = [
        (fields.get("Package") == "netsim", f"Package {fields.get('Package')}"),
        (fields.get("Version") == version, f"Version {fields.get('Version')}, netsim --version {version}"),
        ("<" in fields.get("Maintainer", ""), f"Maintainer {fields.get('Maintainer')}"),
        (fields.get("Description", "").startswith("deterministic discrete-event network simulator"),
         f"Description {fields.get('Description')}"),
    ]
    depends = fields.get("Depends", "")
    for lib in ("libc6", "libstdc++6", "libssl3"):
        checks.append((lib in depends, f"Depends lacks {lib}: {depends}"))
    for ok, what in checks:
        if not ok:
            fail(what)
    print(f"package: built {os.path.basename(deb)}: Depends: {depends}")


def package_entries(deb):
    """{path: kind} from `dpkg-deb -c`: paths relative, without './'; kind 'd' directory, 'l'
    symlink, '-' file."""
    entries = {}
    for line in run(["dpkg-deb", "-c", deb]).splitlines():
        name = line.split(None, 5)[5].split(" -> ")[0]
        name = (name[2:] if name.startswith("./") else name).rstrip("/")
        if name:
            entries[name] = line[0]
    return entries


def tree(root):
    found = set()
    for dirpath, dirs, files in os.walk(root):
        for n in dirs + files:
            found.add(os.path.relpath(os.path.join(dirpath, n), root))
    return found


def check_installed(prefix_root, source, work, tag):
    """`netsim check` and a schema validation from an installed tree rooted at prefix_root/usr."""
    usr = os.path.join(prefix_root, "usr")
    netsim = os.path.join(usr, "bin", "netsim")
    examples = os.path.join(usr, "share", "doc", "netsim", "examples")
    junit = os.path.join(work, f"junit-{tag}.xml")
    out = run([netsim, "check", examples, "-j2", "--progress", "never", "--junit", junit])
    expect_run, expect_skip = bundled_count(source)
    summary = out.strip().splitlines()[-1]
    want = f"{expect_run + expect_skip} scenarios: {expect_run} passed, 0 failed, 0 invalid, {expect_skip} skipped"
    if summary != want:
        fail(f"installed check says '{summary}', wanted '{want}'")
    # The examples' "$schema" ("../schema/scenario.schema.json") reaches the installed schema.
    example = os.path.join(examples, "udp", "specific-shadows-wildcard.json")
    schema = os.path.join(os.path.dirname(example), "..", "schema", "scenario.schema.json")
    if os.path.realpath(schema) != os.path.realpath(os.path.join(usr, "share", "netsim", "scenario.schema.json")):
        fail(f"{schema} resolves to {os.path.realpath(schema)}")
    try:
        import jsonschema
        with open(schema) as f, open(example) as g:
            jsonschema.validate(json.load(g), json.load(f))
    except ImportError:
        print("package: python3-jsonschema missing: the installed schema was not applied")
    # `netsim init` from the installed tree names the installed schema, and its project passes.
    project = os.path.join(work, f"init-{tag}")
    shutil.rmtree(project, ignore_errors=True)
    run([netsim, "init", project])
    with open(os.path.join(project, "scenarios", "first.json")) as f:
        named = json.load(f)["$schema"]
    if named != os.path.join(os.path.realpath(usr), "share", "netsim", "scenario.schema.json"):
        fail(f"netsim init wrote $schema {named}")
    run([netsim, "check", os.path.join(project, "scenarios")])
    shutil.rmtree(project)
    if prefix_root == "/" and shutil.which("man"):  # man finds the page where dpkg put it
        page = run(["man", "-w", "netsim"]).strip()
        if page != "/usr/share/man/man1/netsim.1":
            fail(f"man -w netsim says {page}")
    print(f"package: {netsim} check {examples}: {summary}")


def extract(netsim, source, build_dir, work):
    deb = the_deb(work)
    root = os.path.join(work, "root")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    run(["dpkg-deb", "-x", deb, root])
    listed = list(package_entries(deb))
    if set(listed) != tree(root):
        fail(f"the scratch root differs from the package listing: {sorted(set(listed) ^ tree(root))}")
    for needed in ("usr/bin/netsim", "usr/share/netsim/scenario.schema.json", "usr/share/doc/netsim/README.md",
                   "usr/share/doc/netsim/semantics.md", "usr/share/man/man1/netsim.1",
                   "usr/share/bash-completion/completions/netsim", "usr/share/zsh/vendor-completions/_netsim",
                   "usr/share/doc/netsim/examples/udp/specific-shadows-wildcard.json",
                   "usr/include/netsim/netsim.h"):
        if needed not in listed:
            fail(f"the package has no {needed}")
    if not any(p.endswith("/cmake/netsim/netsimConfig.cmake") for p in listed):
        fail("the package has no lib/.../cmake/netsim/netsimConfig.cmake")
    check_installed(root, source, work, "extract")
    left = tree(root) - set(listed)
    if left:
        fail(f"running from the installed tree wrote into it: {sorted(left)}")
    # Remove what the package lists (files, then directories deepest first): nothing may remain.
    for p in sorted(listed, key=lambda p: -p.count("/")):
        full = os.path.join(root, p)
        if os.path.islink(full) or not os.path.isdir(full):
            os.remove(full)
    for p in sorted(listed, key=lambda p: -p.count("/")):
        full = os.path.join(root, p)
        if os.path.isdir(full) and not os.path.islink(full):
            os.rmdir(full)
    if os.listdir(root):
        fail(f"left behind after removing the package's files: {sorted(tree(root))}")
    os.rmdir(root)
    print(f"package: extracted {len(listed)} paths, ran from them, removed them: nothing left")


def dpkg(netsim, source, build_dir, work):
    if os.environ.get("NETSIM_PACKAGE_REQUIRED") != "1":
        print("package: SKIP: dpkg -i/-r installs into this machine; set NETSIM_PACKAGE_REQUIRED=1 "
              "(as root) to run it (.ci/run does)")
        sys.exit(SKIP)
    if os.geteuid() != 0:
        fail("NETSIM_PACKAGE_REQUIRED=1 but not root: dpkg -i needs root")
    if subprocess.run(["dpkg-query", "-W", "-f=${Status}", "netsim"], capture_output=True,
                      text=True).stdout.startswith("install ok"):
        fail("a netsim package is installed already; remove it (dpkg -r netsim) first")
    deb = the_deb(work)
    entries = package_entries(deb)
    listed = list(entries)
    # After --purge: no file or link of the package, and no directory that it created.
    must_go = [p for p, kind in entries.items() if kind != "d" or not os.path.lexists(os.path.join("/", p))]
    run(["dpkg", "-i", deb])
    try:
        installed = set(p.lstrip("/") for p in run(["dpkg", "-L", "netsim"]).splitlines() if p.strip("/."))
        missing = set(listed) - installed
        if missing:
            fail(f"dpkg -L netsim lacks {sorted(missing)}")
        check_installed("/", source, work, "dpkg")
    finally:
        run(["dpkg", "--purge", "netsim"])
    left = [p for p in must_go if os.path.lexists(os.path.join("/", p))]
    if left:
        fail(f"left behind after dpkg --purge: {left}")
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "netsim"], capture_output=True, text=True)
    if status.returncode == 0 and status.stdout.strip() not in ("", "unknown ok not-installed"):
        fail(f"dpkg still knows netsim after --purge: {status.stdout}")
    print(f"package: dpkg -i, ran /usr/bin/netsim check, dpkg --purge: none of its {len(must_go)} files and new directories left")


def main():
    step, netsim, source, build_dir, work = sys.argv[1:6]
    os.makedirs(work, exist_ok=True)
    for tool in ("cpack", "dpkg-deb"):
        if shutil.which(tool) is None:
            print(f"package: SKIP: {tool} not found (apt-get install -y cmake dpkg)")
            sys.exit(SKIP)
    {"build": build, "extract": extract, "dpkg": dpkg}[step](netsim, source, build_dir, work)


if __name__ == "__main__":
    main()
