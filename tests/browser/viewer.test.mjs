// Headless-browser test of the netsim HTML viewer: opens viewers exported from the sample traces
// over file://, checks there is no console error and no network request, the number of events
// listed, and that clicking a delivery explains the winner and what it shadowed. Screenshots go to
// the output directory (and, with --docs, to docs/viewer.png).
//   node viewer.test.mjs --export PATH/TO/exporter --traces DIR --out DIR [--docs FILE]
// Exit 0 passed, 1 failed, 77 skipped (no chromium or no playwright-core).
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
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
    assert((await page.textContent('#why')).includes('level inferred'), 'any: level inferred');
    await page.screenshot({ path: join(outDir, 'viewer-tcp.png') });
    if (docsShot) await page.screenshot({ path: docsShot });
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
    const { writeFileSync } = await import('node:fs');
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
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
