#!/usr/bin/python3
"""Every reference in the repository resolves inside the repository.

Usage: check_references.py REPO_DIR
       check_references.py --self-test   (the checker finds each kind of broken reference)
Reads every file git tracks or would track (`git ls-files --cached --others
--exclude-standard`; without git, every file under REPO_DIR outside build*/, out/ and
node_modules/) and reports, as FILE:LINE: message:
  - a path that leaves the repository: `../` into a reference folder (REFERENCE_DIRS),
    `/work/...`, `<reference folder>/spec/...`, or a
    relative link or `$schema` that resolves outside REPO_DIR;
  - a Markdown link `[text](target)` to a file that does not exist, or to a `#heading` that the
    target file does not have;
  - a repository path in text (`docs/x.md`, `scenarios/udp/y.json`, `stack/z.h`, `bench/`) that
    names no file or folder (names without an extension may be build products: not checked);
  - a `NAME.md` mentioned without a folder that is no file of the repository;
  - a section citation that names no section: `semantics.md 5.1` (or `semantics 5.1`) needs a
    heading "5.1" in docs/semantics.md, `X.md, "Heading"` a heading "Heading" in X.md.
Exit 0 when everything resolves, 1 otherwise.
"""
import json
import os
import pathlib
import re
import subprocess
import sys

SKIP_DIRS = {".git", "node_modules", "out"}
# Files whose text is data, not references (traces hold packet payloads and names).
SKIP_PREFIXES = ("tests/data/traces/",)
TOP_DIRS = ("docs", "sim", "stack", "net", "scenarios", "viz", "tests", "bench", ".ci")
# The folder of reference material the developers keep beside the repository; users do not have it.
REFERENCE_DIRS = ("shared",)
OUTSIDE = [
    (re.compile(r"\.\./(" + "|".join(REFERENCE_DIRS) + r")\b"), "a reference folder beside the repository"),
    (re.compile(r"/work/"), "`/work/` is a path of one machine, not of the repository"),
    (re.compile(r"(?<![\w.-])(" + "|".join(REFERENCE_DIRS) + r")/(spec|seed|reference|anchors)\b"),
     "a reference folder beside the repository"),
]
MD_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
REPO_PATH = re.compile(r"(?<![\w./~$-])((?:%s)/[\w./+-]*[\w/])" % "|".join(re.escape(d) for d in TOP_DIRS))
MD_NAME = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
SECTION = re.compile(r"\bsemantics(?:\.md)?,? (?:sections? )?(\d+(?:\.\d+)?)")
QUOTED_HEADING = re.compile(r"\b([\w./-]+\.md),? \"([^\"\n]+)\"")


def tracked_files(root):
    try:
        out = subprocess.run(["git", "-C", str(root), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], check=True,
                             capture_output=True).stdout.decode()
        return sorted(p for p in out.split("\0") if p)
    except (OSError, subprocess.CalledProcessError):
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith("build")]
            for f in filenames:
                files.append(str((pathlib.Path(dirpath) / f).relative_to(root)))
        return sorted(files)


def slug(heading):
    """GitHub's anchor for a Markdown heading."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    return [re.sub(r"^#+\s*", "", l).strip() for l in lines if re.match(r"#{1,6}\s", l)]


def section_numbers(path):
    numbers = set()
    for h in headings(path):
        m = re.match(r"(\d+(?:\.\d+)*)\.?\s", h)
        if m:
            numbers.add(m.group(1))
    return numbers


class Checker:
    def __init__(self, root):
        self.root = root.resolve()
        self.files = tracked_files(self.root)
        self.existing = set(self.files)
        self.dirs = {str(pathlib.PurePosixPath(f).parent) for f in self.files}
        for d in list(self.dirs):
            while d not in ("", "."):
                d = str(pathlib.PurePosixPath(d).parent)
                self.dirs.add(d)
        self.basenames = {pathlib.PurePosixPath(f).name for f in self.files}
        semantics = self.root / "docs" / "semantics.md"
        self.sections = section_numbers(semantics) if semantics.exists() else set()
        self.problems = []

    def report(self, where, line, message):
        self.problems.append(f"{where}:{line}: {message}")

    def inside(self, path):
        try:
            path.resolve().relative_to(self.root)
            return True
        except ValueError:
            return False

    def exists(self, rel):
        rel = rel.rstrip("/")
        return rel in self.existing or rel in self.dirs

    def find_md(self, name, relative_to):
        """The repository file a bare `NAME.md` most likely means."""
        for candidate in (relative_to / name, self.root / "docs" / name, self.root / name):
            if candidate.exists():
                return candidate
        return None

    def check_link(self, where, line, base, target):
        if re.match(r"[a-z]+:", target) or target.startswith("//"):
            return  # a URL
        path_part, _, anchor = target.partition("#")
        path = (base / path_part) if path_part else self.root / where
        if not self.inside(path):
            self.report(where, line, f"link `{target}` leaves the repository")
            return
        rel = str(path.resolve().relative_to(self.root))
        if path_part and not self.exists(rel):
            self.report(where, line, f"link `{target}`: no file `{rel}`")
            return
        if anchor and path.suffix == ".md":
            if anchor not in {slug(h) for h in headings(path)}:
                self.report(where, line, f"link `{target}`: `{rel}` has no heading `#{anchor}`")

    def check_file(self, rel):
        path = self.root / rel
        if rel.startswith(SKIP_PREFIXES) or not path.is_file():
            return
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            return  # binary (an image)
        base = path.parent
        for number, line in enumerate(text.splitlines(), 1):
            for pattern, message in OUTSIDE:
                if pattern.search(line):
                    self.report(rel, number, message)
            if rel.endswith(".md"):
                for m in MD_LINK.finditer(line):
                    self.check_link(rel, number, base, m.group(1))
            for m in REPO_PATH.finditer(line):
                token = m.group(1).rstrip(".")
                if "node_modules" in token or not re.search(r"(\.\w+|/)$", m.group(1)):
                    continue  # a build product, a module name (`viz/export`), a gitignored folder
                if not self.exists(token):
                    self.report(rel, number, f"`{token}` names no file or folder of the repository")
            for m in MD_NAME.finditer(line):
                name = m.group(1)
                if name not in self.basenames:
                    self.report(rel, number, f"`{name}` is no file of the repository")
            for m in SECTION.finditer(line):
                if m.group(1) not in self.sections:
                    self.report(rel, number, f"docs/semantics.md has no section {m.group(1)}")
            for m in QUOTED_HEADING.finditer(line):
                doc = self.find_md(pathlib.PurePosixPath(m.group(1)).name if "/" not in m.group(1)
                                   else m.group(1), base if "/" not in m.group(1) else self.root)
                if doc and m.group(2) not in headings(doc) and not any(
                        h.endswith(m.group(2)) or h.startswith(m.group(2)) for h in headings(doc)):
                    self.report(rel, number, f"{m.group(1)} has no heading \"{m.group(2)}\"")
        if rel.endswith(".json"):
            self.check_schema_key(rel, path, text)

    def check_schema_key(self, rel, path, text):
        try:
            doc = json.loads(text)
        except ValueError:
            return  # invalid examples are not JSON on purpose
        target = doc.get("$schema") if isinstance(doc, dict) else None
        if isinstance(target, str) and not re.match(r"[a-z]+:", target):
            if not self.inside(path.parent / target) or not (path.parent / target).exists():
                self.report(rel, 1, f"`$schema` `{target}` does not resolve inside the repository")

    def run(self):
        for rel in self.files:
            if rel != "tests/check_references.py":
                self.check_file(rel)
        for p in self.problems:
            print(p)
        print(f"{len(self.files)} files checked, {len(self.problems)} unresolved references")
        return 1 if self.problems else 0


def self_test():
    """A small tree outside git with one broken reference of every kind, and good ones."""
    import tempfile
    files = {
        "docs/semantics.md": "# S\n## 5. Sockets\n### 5.1 Delivery\n",
        "docs/a.md": "[ok](semantics.md#51-delivery) [ok](../README.md) semantics.md 5.1\n"
                     "[bad](gone.md) [bad](semantics.md#nowhere) [bad](../../x.md)\n",
        "README.md": f"see ../{REFERENCE_DIRS[0]}/spec/x and docs/missing.md and docs/a.md\n",
        "stack/x.h": "// semantics.md 9.9, semantics 5.1, nowhere.md, semantics.md, \"No such\"\n",
        "scenarios/s.json": '{"$schema": "../../outside.json"}\n',
    }
    expected = {"docs/a.md:2": 4, "README.md:1": 3, "stack/x.h:1": 3, "scenarios/s.json:1": 1}
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "repo"
        for rel, text in files.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)
        checker = Checker(root)
        checker.files = sorted(files)  # a temporary directory may lie inside a git work tree
        checker.existing = set(files)
        checker.basenames = {pathlib.PurePosixPath(f).name for f in files}
        for rel in checker.files:
            checker.check_file(rel)
    seen = {}
    for p in checker.problems:
        where = ":".join(p.split(":")[:2])
        seen[where] = seen.get(where, 0) + 1
    if seen != expected:
        print("self-test: expected problems per line", expected, "got", seen)
        for p in checker.problems:
            print("  " + p)
        return 1
    print(f"self-test: {len(checker.problems)} broken references found, as expected")
    return 0


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "--self-test":
        return self_test()
    return Checker(pathlib.Path(argv[1])).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
