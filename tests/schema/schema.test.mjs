// The scenario JSON Schema (scenarios/schema/scenario.schema.json) under ajv, draft 2020-12,
// strict mode: it compiles with no strict-mode message at all, every property carries a
// description (what an editor shows on hover), and it agrees with the loader (`netsim
// validate`) on every scenario the repository holds: each file the loader accepts passes, each
// file it rejects fails, except the files tests/schema/not-judged.json lists with the reason a
// schema cannot judge them. A listed file that the schema rejects is an error too (drop it
// from the list). Exit 0 pass, 1 fail, 77 skipped (ajv not installed: `npm ci` here).
//
// Usage: node schema.test.mjs --netsim PATH/TO/netsim [--source REPO_DIR]
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const source = resolve(option("--source", join(here, "..", "..")));
const netsim = option("--netsim", null);
if (!netsim) {
  console.error("usage: node schema.test.mjs --netsim PATH/TO/netsim [--source REPO_DIR]");
  process.exit(2);
}

let Ajv2020, addFormats;
try {
  Ajv2020 = (await import("ajv/dist/2020.js")).default;
  addFormats = (await import("ajv-formats")).default;
} catch {
  console.log("SKIP: ajv is not installed (cd tests/schema && npm ci)");
  process.exit(77);
}

const failures = [];
const fail = (message) => failures.push(message);
const schemaPath = join(source, "scenarios", "schema", "scenario.schema.json");
const schema = JSON.parse(readFileSync(schemaPath, "utf8"));

// 1. Strict compile: every strict-mode message (strictRequired, strictTypes, unknown
// keywords, ...) is collected rather than stopping at the first, then counted as failures.
const strictMessages = [];
const collect = (...parts) => strictMessages.push(parts.join(" "));
const ajv = new Ajv2020({
  strict: "log", allErrors: true,
  logger: { log: () => {}, warn: collect, error: collect },
});
addFormats(ajv);
const validate = ajv.compile(schema);
for (const m of strictMessages) fail(`strict mode: ${m}`);
try {  // and exactly what `ajv compile --spec=draft2020 --strict=true` does
  addFormats(new Ajv2020({ strict: true })).compile(schema);
} catch (e) {
  fail(`strict compile: ${e.message}`);
}
if (!/^https:\/\//.test(schema.$id ?? "") || /\.invalid\//.test(schema.$id)) {
  fail(`$id is not a real https URL: ${schema.$id}`);
}

// 2. Every property has a description, wherever it is defined. Not counted: a property whose
// schema is `true` or `false` (it only says the key may or may not be there; the key is
// described where it is defined) and the properties of an `if` (a condition, never shown).
let properties = 0;
const walk = (node, pointer) => {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walk(item, `${pointer}/${i}`));
    return;
  }
  if (node === null || typeof node !== "object") return;
  for (const [key, value] of Object.entries(node)) {
    const at = `${pointer}/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
    if (key === "if") continue;
    if (key === "properties" && typeof value === "object" && !Array.isArray(value)) {
      for (const [name, sub] of Object.entries(value)) {
        if (typeof sub === "boolean") continue;
        properties++;
        const described = typeof sub === "object" && typeof sub.description === "string" &&
          sub.description.trim() !== "";
        if (!described) fail(`${at}/${name}: no description`);
      }
    }
    walk(value, at);
  }
};
walk(schema, "");

// 3. The schema agrees with the loader on every file.
const filesUnder = (dir) => {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== "schema") out.push(...filesUnder(path));
    } else if (name.endsWith(".json")) {
      out.push(path);
    }
  }
  return out;
};
const files = [
  ...filesUnder(join(source, "scenarios")),
  ...filesUnder(join(source, "tests", "data", "loader")),
  ...filesUnder(join(source, "tests", "data", "check")),
  ...filesUnder(join(source, "tests", "data", "invalid")),
];
const notJudged = JSON.parse(readFileSync(join(here, "not-judged.json"), "utf8"));
const listed = new Set(Object.keys(notJudged.files));
const loaderAccepts = (path) => {
  try {
    execFileSync(netsim, ["validate", path], { stdio: "pipe" });
    return true;
  } catch (e) {
    if (e.status !== 3) fail(`${path}: netsim validate exited ${e.status}, not 0 or 3`);
    return false;
  }
};
const counts = { valid: 0, rejected: 0, notJudged: 0 };
for (const path of files) {
  const rel = relative(source, path);
  const valid = loaderAccepts(path);
  let doc, parsed = true;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    parsed = false;
  }
  const schemaAccepts = parsed && validate(doc);
  if (valid) {
    counts.valid++;
    if (!schemaAccepts) {
      const why = parsed ? ajv.errorsText(validate.errors, { separator: "; " }) : "not JSON";
      fail(`${rel}: the loader accepts it, the schema does not: ${why}`);
    }
    if (rel.startsWith("scenarios/") && parsed && typeof doc.$schema !== "string") {
      fail(`${rel}: a bundled scenario names its schema with "$schema"`);
    }
  } else if (listed.has(rel)) {
    counts.notJudged++;
    if (!parsed || schemaAccepts) continue;
    fail(`${rel}: listed in not-judged.json, but the schema rejects it (remove it from the list)`);
  } else if (schemaAccepts || !parsed) {
    fail(`${rel}: the loader rejects it, the schema accepts it (make the schema say why, or list ` +
         `it in tests/schema/not-judged.json with the reason a schema cannot)`);
  } else {
    counts.rejected++;
  }
}
for (const rel of listed) {
  if (!files.some((p) => relative(source, p) === rel)) fail(`not-judged.json lists ${rel}: no such file`);
}

for (const f of failures) console.log(`FAIL ${f}`);
console.log(`schema: ${strictMessages.length} strict-mode messages, ${properties} properties ` +
            `described; ${files.length} files: ${counts.valid} valid pass, ${counts.rejected} ` +
            `invalid rejected, ${counts.notJudged} invalid a schema cannot judge ` +
            `(tests/schema/not-judged.json); ${failures.length} failures`);
process.exit(failures.length ? 1 : 0);
