// Headless-browser test of the netsim HTML viewer: opens viewers exported from the sample traces
// over file://, checks there is no console error and no network request, the number of events
// listed, and that clicking a delivery explains the winner and what it shadowed. Screenshots go to
// the output directory (and, with --docs, to docs/viewer.png).
// With --netsim it also runs bundled scenarios (guards, reuse_port, routers, address changes) and
// checks what the viewer shows for them, and opens the diff pages `netsim compare`, `explore` and
// `netsim check --golden` write.
//   node viewer.test.mjs --export PATH/TO/exporter [--netsim PATH/TO/netsim] --traces DIR --out DIR [--docs FILE]
// Exit 0 passed, 1 failed, 77 skipped (no chromium or no playwright-core).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const SKIP = 77;
const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const exporter = arg('--export', null);
const tracesDir = resolve(arg('--traces', join(here, '..', 'data', 'traces')));
const outDir = resolve(arg('--out', join(here, 'out')));
const docsShot = arg('--docs', null);
const netsim = arg('--netsim', null);
const scenariosDir = resolve(join(here, '..', '..', 'scenarios'));
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

if (!existsSync(chromiumPath)) {
  console.log(`SKIP: ${chromiumPath} not found (apt-get install -y chromium)`);
  process.exit(SKIP);
}
let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log(`SKIP: playwright-core is not installed (cd tests/browser && npm ci): ${e.message}`);
  process.exit(SKIP);
}
if (!exporter) {
  console.error('usage: node viewer.test.mjs --export EXPORTER [--traces DIR] [--out DIR] [--docs PNG]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

function exportViewer(name, extra = [], suffix = '') {
  const trace = join(tracesDir, `${name}.jsonl`);
  const html = join(outDir, `${name}${suffix}.html`);
  execFileSync(exporter, [trace, '--format', 'html', ...extra, '-o', html], { stdio: 'inherit' });
  const events = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .filter((e) => e.event !== 'header' && e.event !== 'summary');
  return { html, events };
}

// Runs a bundled scenario with `netsim run` (any exit code) and exports its trace to a viewer.
function runScenario(rel) {
  const name = rel.replace(/\//g, '-').replace(/\.json$/, '');
  const trace = join(outDir, `${name}.jsonl`);
  const run = spawnSync(netsim, ['run', join(scenariosDir, rel), '--trace', trace, '-q'], { encoding: 'utf8' });
  if (run.status !== 0 && run.status !== 1) throw new Error(`netsim run ${rel}: exit ${run.status}: ${run.stderr}`);
  const html = join(outDir, `${name}.html`);
  execFileSync(exporter, [trace, '--format', 'html', '-o', html], { stdio: 'inherit' });
  const events = readFileSync(trace, 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    .filter((e) => e.event !== 'header' && e.event !== 'summary');
  return { html, events, status: run.status };
}

let passed = 0, failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${String(e && e.stack || e).split('\n').join('\n  ')}`);
  }
}
function assert(cond, message) { if (!cond) throw new Error(message); }

const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--no-first-run', '--disable-sync'],
});

async function open(html, { width = 1600, height = 900, hash = '' } = {}) {
  const page = await browser.newPage({ viewport: { width, height } });
  const problems = [];
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => { if (!r.url().startsWith('file:')) problems.push(`network request: ${r.url()}`); });
  await page.goto(pathToFileURL(html).href + hash);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 10000 });
  return { page, problems };
}

try {
  await check('udp trace: events listed, delivery explained, no console error', async () => {
    const { html, events } = exportViewer('udp-wildcard-uncovered');
    const { page, problems } = await open(html);
    const rows = await page.getAttribute('body', 'data-rows');
    assert(Number(rows) === events.length, `listed ${rows} events, want ${events.length}`);
    const count = await page.textContent('#count');
    assert(count.startsWith(`${events.length} of ${events.length}`), `count says "${count}"`);
    // The first delivery: dns wins by specific, shadowing the wildcard "any".
    const deliver = events.find((e) => e.event === 'deliver' && (e.shadowed || []).length);
    await page.click(`.row[data-kind="deliver"] >> nth=0`);
    assert((await page.textContent('#why-winner')) === deliver.socket, 'winner shown');
    assert((await page.textContent('#why-shadowed')) === deliver.shadowed.join(', '), 'shadowed shown');
    const why = await page.textContent('#why');
    assert(why.includes('specific') && why.includes('wildcard') && why.includes('created by'), `why panel: ${why}`);
    assert(page.url().endsWith(`#seq=${deliver.seq}`), `permalink in the URL: ${page.url()}`);
    // The socket table at the cursor marks "any" shadowed, and later uncovered.
    const table = await page.textContent('#sockets');
    assert(table.includes('shadowed by dns'), `socket table at the first delivery: ${table}`);
    await page.click('#cursor-end');
    await page.waitForFunction(() => document.querySelector('#sockets').textContent.includes('uncovered'));
    await page.screenshot({ path: join(outDir, 'viewer-udp.png') });
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });

  await check('tcp trace: filters, permalink, severed socket, screenshot', async () => {
    const { html, events } = exportViewer('tcp-handshake-through-router');
    const sever = events.find((e) => e.event === 'sever');
    const { page, problems } = await open(html, { hash: `#seq=${sever.seq}` });
    const sel = await page.getAttribute('.row.sel', 'data-i');
    assert(sel !== null && events[Number(sel)].seq === sever.seq, 'permalink selects the event');
    const table = await page.textContent('#sockets');
    assert(table.includes('severed'), `severed socket marked: ${table}`);
    await page.selectOption('#f-host', 'server');
    await page.waitForFunction((n) => document.body.dataset.rows === String(n),
      events.filter((e) => e.host === 'server').length);
    await page.selectOption('#f-host', '');
    await page.fill('#f-port', '49153');
    const want = events.filter((e) => JSON.stringify([e.packet, e.local, e.remote]).includes(':49153')).length;
    await page.waitForFunction((n) => Number(document.body.dataset.rows) >= n, want);
    await page.fill('#f-port', '');
    await page.selectOption('#f-lanes', 'socket');
    const delivery = events.findIndex((e) => e.event === 'deliver' && (e.shadowed || []).length);
    await page.evaluate((seq) => { location.hash = `#seq=${seq}`; }, events[delivery].seq);
    await page.waitForFunction(() => document.querySelector('#why-winner') !== null);
    assert((await page.textContent('#why-winner')) === 'web', 'web wins the SYN');
    // The socket record of `any` states its level (wildcard): nothing left to infer.
    const why = await page.textContent('#why');
    assert(why.includes('any') && why.includes('*:80') && !why.includes('level inferred'), `any from its record: ${why}`);
    await page.screenshot({ path: join(outDir, 'viewer-tcp.png') });
    if (docsShot) await page.screenshot({ path: docsShot });
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });

  await check('socket records: facts from the record, not from names; older traces inferred', async () => {
    // Names that mislead: listener `web#1` looks like a child of `web`, its step claims UDP on
    // 10.0.0.1:81, child `any#7` looks like `any`'s. The records say otherwise.
    const base = readFileSync(join(tracesDir, 'udp-wildcard-uncovered.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const lines = [base[0],
      { addresses: [], event: 'socket', host: 'server', how: 'listen', port: 80, proto: 'tcp', seq: 0, socket: 'web#1', step: '/steps/0', t: 0 },
      { addresses: ['10.0.0.1'], event: 'step', host: 'server', op: 'listen', port: 81, proto: 'udp', result: 'ok', seq: 1, socket: 'web#1', step: '/steps/0', t: 0 },
      { event: 'socket', host: 'server', how: 'child', listener: 'web#1', local: '10.0.0.1:80', proto: 'tcp', remote: '10.0.0.100:4000', seq: 2, socket: 'any#7', t: 1000 }];
    const trace = join(outDir, 'misleading-names.jsonl'), html = join(outDir, 'misleading-names.html');
    writeFileSync(trace, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    execFileSync(exporter, [trace, '-o', html], { stdio: 'inherit' });
    let { page, problems } = await open(html);
    await page.click('#cursor-end');
    const row = async (name) => page.textContent(`#sockets tr[data-socket="${name}"]`);
    await page.waitForFunction(() => document.querySelector('#sockets tr[data-socket="any#7"]') !== null);
    const listener = await row('web#1'), child = await row('any#7');
    assert(listener.includes('tcp listen wildcard') && listener.includes('*:80'), `web#1: ${listener}`);
    assert(child.includes('tcp connection from web#1') && child.includes('10.0.0.100:4000'), `any#7: ${child}`);
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
    // The tcp sample without its socket records: the level of `any` is inferred as before.
    const old = readFileSync(join(tracesDir, 'tcp-handshake-through-router.jsonl'), 'utf8').trim().split('\n')
      .filter((l) => !l.includes('"event":"socket"'));
    const oldTrace = join(outDir, 'tcp-without-records.jsonl'), oldHtml = join(outDir, 'tcp-without-records.html');
    writeFileSync(oldTrace, old.join('\n') + '\n');
    execFileSync(exporter, [oldTrace, '-o', oldHtml], { stdio: 'inherit' });
    const syn = old.map((l) => JSON.parse(l)).find((e) => e.event === 'deliver' && (e.shadowed || []).length);
    ({ page, problems } = await open(oldHtml, { hash: `#seq=${syn.seq}` }));
    await page.waitForFunction(() => document.querySelector('#why-winner') !== null);
    assert((await page.textContent('#why')).includes('level inferred'), 'without records: any: level inferred');
    await page.click('#cursor-end');
    assert((await row('web#1')).includes('connection'), 'without records: web#1 a connection, by its name');
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });

  await check('past the ceiling: a window of the trace, said at the top of the page', async () => {
    const { html, events } = exportViewer('tcp-handshake-through-router', ['--max-events', '7'], '-window');
    const { page, problems } = await open(html);
    assert(Number(await page.getAttribute('body', 'data-rows')) === 7, 'the first 7 events listed');
    const note = page.locator('#window-note');
    assert(await note.isVisible(), 'the window note is shown');
    const text = await note.textContent();
    assert(text.includes(`7 of ${events.length} events`) && text.includes('--from'), `note: ${text}`);
    const box = await note.boundingBox(), main = await page.locator('#main').boundingBox();
    assert(box.y < main.y, 'the note is above the panes');
    assert((await page.textContent('.row >> nth=0')).includes(String(events[0].seq)), 'starts at the first event');
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });

  await check('--from/--to: the page holds that span of virtual time', async () => {
    const from = 60000000, to = 70000000;
    const { html, events } = exportViewer('tcp-handshake-through-router', ['--from', '60ms', '--to', '70ms'], '-span');
    const want = events.filter((e) => e.t >= from && e.t <= to).length;
    const { page, problems } = await open(html);
    assert(Number(await page.getAttribute('body', 'data-rows')) === want, `listed ${await page.getAttribute('body', 'data-rows')}, want ${want}`);
    assert((await page.textContent('#window-note')).includes('asked for t 60ms to 70ms'), 'the note names the span');
    await page.click('#cursor-end');
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });

  await check('100 000 events stay responsive', async () => {
    const big = join(outDir, 'big.jsonl');
    const base = readFileSync(join(tracesDir, 'udp-wildcard-uncovered.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const body = base.slice(1, -1);
    const lines = [JSON.stringify(base[0])];
    let seq = 0;
    for (let round = 0; lines.length <= 100000; round++) {
      for (const e of body) {
        const c = Object.assign({}, e, { seq, t: e.t + round * 20000000 });
        if (c.cause !== undefined) c.cause = e.cause + (seq - e.seq);
        lines.push(JSON.stringify(c));
        seq++;
      }
    }
    lines.push(JSON.stringify(Object.assign({}, base[base.length - 1], { events: seq })));
    writeFileSync(big, lines.join('\n') + '\n');
    const html = join(outDir, 'big.html');
    execFileSync(exporter, [big, '-o', html], { stdio: 'inherit' });
    const started = Date.now();
    const { page, problems } = await open(html);
    const loadMs = Date.now() - started;
    assert(Number(await page.getAttribute('body', 'data-rows')) === seq, 'all events listed');
    const domRows = await page.locator('.row').count();
    assert(domRows < 200, `virtualised list: ${domRows} rows in the DOM`);
    const t0 = Date.now();
    for (let k = 1; k <= 10; k++) {
      await page.evaluate((f) => { const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight * f; }, k / 10);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    }
    await page.selectOption('#f-host', 'client');
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    const scrollMs = Date.now() - t0;
    console.log(`  load ${loadMs} ms, 10 scrolls + a filter ${scrollMs} ms`);
    assert(loadMs < 15000 && scrollMs < 5000, 'responsive');
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });
  await check('filtering while scrolled down lists the filtered events at once', async () => {
    const { html, events } = exportViewer('tcp-handshake-through-router');
    const { page, problems } = await open(html, { width: 1600, height: 700 });
    await page.evaluate(() => { const s = document.getElementById('scroller'); s.scrollTop = s.scrollHeight; });
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    const want = events.filter((e) => e.host === 'r').length;
    await page.selectOption('#f-host', 'r');
    await page.waitForFunction((n) => document.body.dataset.rows === String(n), want);
    // Without touching the scroll bar, the rows drawn are the filtered ones and are in view.
    const seen = await page.evaluate(() => {
      const box = document.getElementById('scroller').getBoundingClientRect();
      return [...document.querySelectorAll('.row')].filter((r) => {
        const b = r.getBoundingClientRect();
        return b.bottom > box.top && b.top < box.bottom;
      }).length;
    });
    const room = Math.floor(await page.evaluate(() => document.getElementById('scroller').clientHeight) / 20);
    assert(seen >= Math.min(want, room), `rows in view after filtering: ${seen} (room for ${room}, ${want} listed)`);
    const hostsShown = await page.evaluate(() => [...new Set([...document.querySelectorAll('.row .c-host')].map((c) => c.textContent))]);
    assert(hostsShown.join(',') === 'r', `hosts listed: ${hostsShown.join(',')}`);
    // The port filter's placeholder says there is no filter, and is not a port number.
    const placeholder = await page.getAttribute('#f-port', 'placeholder');
    assert(placeholder === 'any' && Number.isNaN(Number(placeholder)), `port placeholder: ${placeholder}`);
    assert(await page.inputValue('#f-port') === '', 'the port filter is empty');
    assert(problems.length === 0, problems.join('\n'));
    await page.close();
  });

  await check('the what column shows TCP flags in full, also in a narrow window', async () => {
    const { html } = exportViewer('tcp-handshake-through-router');
    for (const width of [1600, 1150]) {
      const { page, problems } = await open(html, { width, height: 800 });
      const boxes = await page.evaluate(() => [...document.querySelectorAll('.row .flags')].map((f) => {
        const what = f.closest('.c-what').getBoundingClientRect(), b = f.getBoundingClientRect();
        return { text: f.textContent, right: b.right, limit: what.right };
      }));
      assert(boxes.length >= 5, `rows with TCP flags at width ${width}: ${boxes.length}`);
      for (const b of boxes) assert(b.right <= b.limit + 0.5, `flags ${b.text} cut at width ${width}: ${b.right} > ${b.limit}`);
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
    }
  });

  if (netsim) {
    await check('a run stopped by a guard is a red verdict, nothing green', async () => {
      const { html, events, status } = runScenario('guards/events.json');
      assert(status === 1, `netsim run exits 1, got ${status}`);
      const { page, problems } = await open(html);
      const verdict = page.locator('#verdict');
      assert((await verdict.getAttribute('class')).includes('fail'), 'verdict badge is red');
      assert((await verdict.textContent()).includes('events guard'), `verdict: ${await verdict.textContent()}`);
      assert(await page.locator('#badges .badge.pass').count() === 0, 'no green badge');
      await verdict.click();
      const guard = events.find((e) => e.event === 'guard');
      assert(page.url().endsWith(`#seq=${guard.seq}`), 'the verdict selects the guard event');
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
      // A run that held is green.
      const ok = runScenario('udp/specific-shadows-wildcard.json');
      const { page: p2 } = await open(ok.html);
      assert((await p2.getAttribute('#verdict', 'class')).includes('pass'), 'a passing run is green');
      await p2.close();
    });

    await check('topology: every address once, "(new)" only for one a step added', async () => {
      const { html, events } = runScenario('udp/sever-on-change.json');
      const { page, problems } = await open(html);
      await page.click('#cursor-end');
      await page.waitForFunction(() => document.querySelector('#topology text') !== null);
      const lines = await page.evaluate(() => [...document.querySelectorAll('#topology text')].map((t) => t.textContent.trim()));
      // The addresses each host holds at the end: one line each, "(new)" when a step added it.
      const held = new Map();
      for (const e of events) {
        if (e.event === 'address_added') held.set(e.host + ' ' + e.address, e);
        if (e.event === 'address_removed') held.delete(e.host + ' ' + e.address);
      }
      for (const a of held.values()) {
        const shown = lines.filter((l) => l.split(/\s+/)[0] === a.address);
        const hostsWithIt = [...held.values()].filter((b) => b.address === a.address).length;
        assert(shown.length === hostsWithIt, `${a.address} listed ${shown.length} times for ${hostsWithIt} hosts: ${lines.join(' | ')}`);
        assert(shown.every((l) => l.includes('(new)') === (a.step !== undefined)), `${a.address}: ${shown.join(' | ')}`);
      }
      assert(lines.filter((l) => l.includes('(new)')).length === 1, `one new address: ${lines.join(' | ')}`);
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
    });

    await check('reuse_port: a delivery names its group; connected UDP sockets are connected', async () => {
      const { html, events } = runScenario('netstack3/reuse-port-hash.json');
      const { page, problems } = await open(html);
      const first = events.find((e) => e.event === 'deliver' && e.host === 'server');
      await page.evaluate((seq) => { location.hash = `#seq=${seq}`; }, first.seq);
      await page.waitForFunction(() => document.querySelector('#why-group') !== null);
      assert((await page.textContent('#why-group')) === 'w1, w2', `group: ${await page.textContent('#why-group')}`);
      const other = first.socket === 'w1' ? 'w2' : 'w1';
      assert((await page.textContent('#why')).includes(`not ${other}`), 'the member not chosen is named');
      assert((await page.textContent('.row.sel .c-what')).includes('w1, w2 share'), 'the row names the group');
      await page.click('#cursor-end');
      await page.waitForFunction(() => document.querySelector('#sockets tr[data-socket="c1"]') !== null);
      const c1 = await page.textContent('#sockets tr[data-socket="c1"] .status');
      assert(c1.includes('connected') && !c1.includes('connecting'), `c1 status: ${c1}`);
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
    });

    await check('lanes follow the topology: a, r1, r2, r3, b', async () => {
      const { html } = runScenario('ip/ping-across-routers.json');
      const { page, problems } = await open(html);
      const lanes = await page.evaluate(() => [...document.querySelectorAll('#lane-labels span')].map((s) => s.textContent));
      assert(lanes.join(',') === 'a,r1,r2,r3,b', `lanes: ${lanes.join(',')}`);
      const options = await page.evaluate(() => [...document.querySelectorAll('#f-host option')].map((o) => o.value).filter(Boolean));
      assert(options.join(',') === 'a,r1,r2,r3,b', `host filter: ${options.join(',')}`);
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
    });

    await check('compare page: the policies side by side, the first difference on top, links into the viewers', async () => {
      const dir = join(outDir, 'compare');
      const run = spawnSync(netsim, ['compare', join(scenariosDir, 'netstack3/no-severing.json'), '--policies', 'seed,netstack3', '--out', dir], { encoding: 'utf8' });
      assert(run.status === 1, `netsim compare exits 1 (differences), got ${run.status}: ${run.stderr}`);
      const { page, problems } = await open(join(dir, 'compare.html'));
      assert((await page.textContent('#first-0')).includes('sever client: conn (address_removed)'), `seed side: ${await page.textContent('#first-0')}`);
      assert((await page.textContent('#first-1')).includes('remove_address client -> ok'), `netstack3 side: ${await page.textContent('#first-1')}`);
      assert((await page.textContent('#first')).includes('t=20ms /steps/2'), 'the step run is named');
      assert(await page.getAttribute('body', 'data-rows') === '3', `differing runs listed: ${await page.getAttribute('body', 'data-rows')}`);
      assert(await page.locator('tr.first-row .dec.parted').count() === 2, 'the first differing decision is marked on both sides');
      assert((await page.textContent('#expectations')).includes('/expect/0'), 'the expectations that differ');
      await page.uncheck('#only-differences');
      assert(await page.getAttribute('body', 'data-rows') === '7', 'every step run when asked');
      await page.screenshot({ path: join(outDir, 'compare.png'), fullPage: true });
      // A seed decision opens the seed viewer at that event.
      const link = page.locator('tr.first-row td:nth-child(2) a').first();
      const href = await link.getAttribute('href');
      assert(/^seed\.html#seq=\d+$/.test(href), `link: ${href}`);
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
      const viewer = await open(join(dir, 'seed.html'), { hash: href.slice(href.indexOf('#')) });
      assert((await viewer.page.textContent('.row.sel .c-kind')) === 'sever', 'the viewer selects the sever');
      assert(viewer.problems.length === 0, viewer.problems.join('\n'));
      await viewer.page.close();
    });

    await check('check --golden: a changed delivery is the first difference on the diff page beside the JUnit file', async () => {
      const dir = join(outDir, 'golden-check');
      const suite = join(dir, 'suite'), golden = join(dir, 'golden');
      mkdirSync(suite, { recursive: true });
      writeFileSync(join(suite, 'ok.json'), readFileSync(join(tracesDir, '..', 'check', 'ok.json')));
      assert(spawnSync(netsim, ['check', suite, '--golden', golden, '--update-golden']).status === 0, 'golden written');
      const lines = readFileSync(join(golden, 'ok.jsonl'), 'utf8').split('\n');
      const k = lines.findIndex((l) => l.includes('"event":"deliver"'));
      lines[k] = lines[k].replace('"socket":"s"', '"socket":"z"');
      writeFileSync(join(golden, 'ok.jsonl'), lines.join('\n'));
      const run = spawnSync(netsim, ['check', suite, '--golden', golden, '--junit', join(dir, 'junit.xml')], { encoding: 'utf8' });
      assert(run.status === 1, `check fails: ${run.stdout}`);
      const { page, problems } = await open(join(dir, 'ok.diff.html'));
      assert((await page.textContent('#first-0')).includes('deliver b: z'), `golden side: ${await page.textContent('#first-0')}`);
      assert((await page.textContent('#first-1')).includes('deliver b: s'), `actual side: ${await page.textContent('#first-1')}`);
      assert((await page.textContent('#kind')).includes('golden'), 'says it compares a golden trace');
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
    });

    await check('explore --out: the default schedule and the breaking one, opened at the first diverging decision', async () => {
      const dir = join(outDir, 'explore');
      const run = spawnSync(netsim, ['explore', join(scenariosDir, 'explore/close-vs-syn-naive.json'), '-j', '1', '--out', dir], { encoding: 'utf8' });
      assert(run.status === 1, `netsim explore exits 1 (a race found), got ${run.status}: ${run.stderr}`);
      // A short window: the table starts below the fold unless the page scrolls to it.
      const { page, problems } = await open(join(dir, 'expect-0.diff.html'), { height: 240 });
      assert((await page.textContent('#kind')).includes('The default schedule and a breaking one'), `kind: ${await page.textContent('#kind')}`);
      assert((await page.textContent('#first-0')).includes('drop server: no_listener'), `default side: ${await page.textContent('#first-0')}`);
      assert((await page.textContent('#first-1')).includes('deliver server: l'), `breaking side: ${await page.textContent('#first-1')}`);
      assert((await page.textContent('#note')).includes('--schedule 1@10000000:1'), `note: ${await page.textContent('#note')}`);
      const view = await page.evaluate(() => {
        const r = document.querySelector('tr.first-row').getBoundingClientRect();
        return { top: r.top, bottom: r.bottom, height: window.innerHeight, scrolled: window.scrollY };
      });
      assert(view.scrolled > 0 && view.top < view.height && view.bottom > 0, `the first differing row in view: ${JSON.stringify(view)}`);
      const link = await page.locator('tr.first-row td:nth-child(3) a').first().getAttribute('href');
      assert(/^schedule-1\.html#seq=\d+$/.test(link), `link into the breaking run's viewer: ${link}`);
      assert(problems.length === 0, problems.join('\n'));
      await page.close();
    });
  }

} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
