#!/usr/bin/python3
"""Validates every bundled scenario against scenarios/schema/scenario.schema.json.

Usage: check_schema.py SCENARIOS_DIR
Checks the schema itself, then every SCENARIOS_DIR/**/*.json outside the schema/ folder
(each must name the schema with a relative "$schema"),
plus the loader's own samples in tests/data/loader/, and that the schema rejects every
invalid example in tests/data/invalid/ except those tests/schema/not-judged.json lists (with
the reason a schema cannot judge them). A second validator beside tests/schema/schema.test.mjs
(ajv), with no npm packages: Debian's python3-jsonschema (run with /usr/bin/python3).
Exit 0 when all validate, 1 otherwise.
"""
import json
import pathlib
import sys

import jsonschema

EXCLUDED = {"schema"}
TESTS = pathlib.Path(__file__).parent


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    root = pathlib.Path(argv[1])
    schema = json.loads((root / "schema" / "scenario.schema.json").read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)

    files = [p for p in sorted(root.rglob("*.json"))
             if not EXCLUDED.intersection(p.relative_to(root).parts[:-1])]
    files += sorted((pathlib.Path(__file__).parent / "data" / "loader").glob("*.json"))
    failed = 0
    for path in files:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            print(f"{path}: not JSON: {e}")
            failed += 1
            continue
        if root in path.parents:  # a bundled scenario names the schema for editors
            target = doc.get("$schema") if isinstance(doc, dict) else None
            if not isinstance(target, str) or \
                    (path.parent / target).resolve() != (root / "schema" / "scenario.schema.json").resolve():
                print(f"{path}: \"$schema\" must be the relative path of scenarios/schema/scenario.schema.json"
                      f" (\"{pathlib.Path(*['..'] * (len(path.relative_to(root).parts) - 1), 'schema', 'scenario.schema.json')}\")")
                failed += 1
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        for e in errors:
            pointer = "".join(f"/{p}" for p in e.absolute_path)
            print(f"{path}: {pointer or '/'}: {e.message[:300]}")
        failed += bool(errors)
    not_judged = json.loads((TESTS / "schema" / "not-judged.json").read_text())["files"]
    invalid = sorted((TESTS / "data" / "invalid").glob("*.json"))
    for path in invalid:
        if f"tests/data/invalid/{path.name}" in not_judged:
            continue
        try:
            doc = json.loads(path.read_text())
        except ValueError:
            print(f"{path}: not JSON, and not listed in tests/schema/not-judged.json")
            failed += 1
            continue
        if validator.is_valid(doc):
            print(f"{path}: the schema accepts this invalid scenario")
            failed += 1
    print(f"{len(files)} valid scenarios checked, {len(invalid)} invalid ones ({len(not_judged)} "
          f"that no schema can judge), {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
