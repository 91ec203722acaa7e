#!/usr/bin/env python3
"""The man page and the completion scripts the build generated (`netsim help`, scenarios/cli_doc.h):
- netsim.1: groff renders it with no warning (-ww), `man -l` renders it, and it lists every
  command and every option that `netsim COMMAND --help` lists, and the exit codes;
- bash: sourcing netsim.bash and calling _netsim with COMP_WORDS/COMP_CWORD offers the commands,
  each command's options, the trace levels after --trace-level, the export formats after
  --format, the policies after --policies (also after a comma), nothing unrelated;
- zsh: `zsh -n` accepts _netsim and it names every command (skipped without zsh).
usage: check_cli_docs.py NETSIM GENERATED_DIR"""
import os
import re
import shutil
import subprocess
import sys

failures = []


def check(ok, what):
    if not ok:
        failures.append(what)
    return ok


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def commands(netsim):
    out = run([netsim, "--help"]).stdout
    return re.findall(r"^  (\w+)\s", out.split("Subcommands:")[1], re.M)


def options(netsim, command):
    """The options `netsim COMMAND --help` lists. `export` prints its own usage: every option
    named in it (its usage has no -h/--help, which export also accepts)."""
    r = run([netsim, command, "--help"])
    if command == "export":
        return sorted(set(re.findall(r"(?<![\w-])(--?[a-z][\w-]*)", r.stdout)) - {"-"})
    names = []
    for line in r.stdout.split("Options:")[1].splitlines():
        m = re.match(r"^  (-\S+)", line)
        if m:
            names += m.group(1).split(",")
    return sorted(names)


def bash_complete(script, words):
    """COMPREPLY for the command line `words` (the last one being completed)."""
    quoted = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    prog = (f"source '{script}'; COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; "
            "_netsim; printf '%s\\n' \"${COMPREPLY[@]}\"")
    r = run(["bash", "-c", prog], cwd=os.path.dirname(script))
    check(r.returncode == 0 and r.stderr == "", f"bash completion of {words}: {r.stderr}")
    return [w for w in r.stdout.splitlines() if w]


def main():
    netsim, gen = sys.argv[1:3]
    cmds = commands(netsim)
    check({"run", "validate", "check", "sweep", "compare", "export", "help"} <= set(cmds), f"commands {cmds}")

    # --- man page
    man = os.path.join(gen, "netsim.1")
    with open(man) as f:
        source = f.read()
    check("\\fI\\fR" not in source, "the man page has an empty value placeholder (a flag given a value?)")
    if shutil.which("groff"):
        r = run(["groff", "-man", "-Tutf8", "-ww", "-z", man])
        check(r.returncode == 0 and r.stderr == "", f"groff warns: {r.stderr}")
    if shutil.which("man"):
        r = run(["man", "-l", man], env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0", PAGER="cat"))
        text = re.sub(".\b", "", r.stdout)
        check(r.returncode == 0 and "NAME" in text and "SYNOPSIS" in text, f"man -l: {r.returncode} {r.stderr}")
        for c in cmds:
            check(re.search(rf"^   {c}$", text, re.M) is not None, f"the man page has no section for {c}")
            for o in options(netsim, c):
                check(o in text, f"the man page lacks {c} {o}")
        for code in range(5):
            check(re.search(rf"^       {code}\s", text, re.M) is not None, f"the man page lacks exit status {code}")
        check("all|sockets|none" in text, "the man page lacks the trace levels")
    else:
        print("cli-docs: man not found: the man page was checked by groff only")

    # --- bash
    bash = os.path.abspath(os.path.join(gen, "netsim.bash"))
    got = bash_complete(bash, ["netsim", ""])
    check(sorted(got) == sorted(cmds + ["--help", "--version"]), f"netsim <TAB> offers {got}")
    check(bash_complete(bash, ["netsim", "co"]) == ["compare"], "netsim co<TAB>")
    for c in cmds:
        got, want = sorted(bash_complete(bash, ["netsim", c, "-"])), options(netsim, c)
        if c == "export":  # its usage names all but -h/--help
            check(set(want) < set(got) and set(got) - set(want) <= {"-h", "--help", "--output"},
                  f"netsim export -<TAB> offers {got}, its usage lists {want}")
        else:
            check(got == want, f"netsim {c} -<TAB> offers {got}, --help lists {want}")
    cases = [
        (["netsim", "run", "x.json", "--trace-level", ""], ["all", "sockets", "none"]),
        (["netsim", "run", "--capture", "b"], ["both"]),
        (["netsim", "check", "--progress", ""], ["auto", "always", "never"]),
        (["netsim", "export", "t.jsonl", "--format", ""], ["pcapng", "chrome", "dot", "mermaid", "html"]),
        (["netsim", "compare", "x.json", "--policies", ""], ["seed", "netstack3", "linux"]),
        (["netsim", "compare", "x.json", "--policies", "seed,n"], ["seed,netstack3"]),
        (["netsim", "help", "--completion", ""], ["bash", "zsh"]),
    ]
    for words, want in cases:
        got = bash_complete(bash, words)
        check(got == want, f"{' '.join(words)}<TAB> offers {got}, wanted {want}")
    # A file argument completes file names.
    got = bash_complete(bash, ["netsim", "run", "netsim.b"])
    check(got == ["netsim.bash"], f"netsim run netsim.b<TAB> offers {got}")

    # --- export's options come from a table (viz/export.h); its own parser must know each one
    # (a missing value is its complaint, not "unknown option"); a made-up one is unknown.
    for o in options(netsim, "export"):
        if o in ("-h", "--help"):
            continue
        r = run([netsim, "export", "t.jsonl", o])
        check(r.returncode == 2 and "unknown option" not in r.stderr, f"netsim export {o}: {r.stderr.strip()}")
    r = run([netsim, "export", "t.jsonl", "--bogus"])
    check("unknown option '--bogus'" in r.stderr, f"netsim export --bogus: {r.stderr.strip()}")

    # --- zsh
    zsh_file = os.path.join(gen, "_netsim")
    with open(zsh_file) as f:
        text = f.read()
    check(text.startswith("#compdef netsim"), "_netsim does not start with #compdef netsim")
    for c in cmds:
        check(f"'{c}:" in text and f"        {c})" in text, f"_netsim lacks {c}")
    if shutil.which("zsh"):
        r = run(["zsh", "-n", zsh_file])
        check(r.returncode == 0, f"zsh -n _netsim: {r.stderr}")
    else:
        print("cli-docs: zsh not found: _netsim's syntax was not checked")

    for f in failures:
        print("FAIL:", f)
    if not failures:
        print(f"cli-docs: man page, bash and zsh completion agree with netsim --help ({len(cmds)} commands)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
