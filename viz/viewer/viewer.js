// netsim trace viewer: everything is computed from the trace embedded in #netsim-trace
// (docs/trace-format.md). No network access. The event list and the sequence chart are
// virtualised (only the visible rows are drawn), so 100 000 events stay responsive.
'use strict';
(function () {
  const ROW = 20;                 // px per event row (matches --row in the CSS)
  const LANE_MAX = 64, LANE_MIN = 22;  // px per lane in the sequence chart
  let LANE_W = LANE_MAX;
  const LEVELS = [
    ['connection+device', 'connection bound to the arriving device'],
    ['connection', 'connection (local, remote) with no device'],
    ['specific+device', 'listener on the destination address, bound to the device'],
    ['specific', 'listener on the destination address'],
    ['wildcard+device', 'wildcard listener bound to the device'],
    ['wildcard', 'wildcard listener'],
  ];
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

  // ---------------------------------------------------------------- the trace
  // netsim-viewer/1 (viz/export_html.h): an object is [shape, values...], a list [-1, items...],
  // text seen before [-2, index into strings].
  const packed = JSON.parse($('netsim-trace').textContent);
  const decode = (v) => {
    if (!Array.isArray(v)) return v;
    if (v[0] === -1) return v.slice(1).map(decode);
    if (v[0] === -2) return packed.strings[v[1]];
    const keys = packed.shapes[v[0]], o = {};
    for (let k = 0; k < keys.length; k++) o[keys[k]] = decode(v[k + 1]);
    return o;
  };
  const header = packed.header || {};
  const summary = packed.summary || null;
  const events = packed.events.map(decode);
  const N = events.length;
  const bySeq = new Map();
  events.forEach((e, i) => bySeq.set(e.seq !== undefined ? e.seq : i, i));

  // ---------------------------------------------------------------- formatting
  function fmtTime(ns) {
    if (ns === undefined || ns === null) return '';
    if (ns === 0) return '0';
    const units = [[1e9, 's', 9], [1e6, 'ms', 6], [1e3, 'us', 3]];
    for (const [scale, unit, digits] of units) {
      if (ns >= scale || ns % scale === 0) {
        let s = Math.floor(ns / scale).toString();
        const frac = ns % scale;
        if (frac) s += '.' + frac.toString().padStart(digits, '0').replace(/0+$/, '');
        return s + unit;
      }
    }
    return ns + 'ns';
  }
  function endpoint(text) {
    if (typeof text !== 'string') return { addr: '', port: null };
    let m = /^\[([^\]]*)\](?::(\d+))?$/.exec(text);
    if (m) return { addr: m[1], port: m[2] !== undefined ? +m[2] : null };
    m = /^([^:]*):(\d+)$/.exec(text);
    if (m) return { addr: m[1], port: +m[2] };
    return { addr: text, port: null };
  }
  function pkt(p) {
    if (!p) return '';
    const proto = (p.proto || '?').toUpperCase();
    if (p.proto === 'icmp') return `ICMP ${p.type || ''} ${p.src} → ${p.dst}` + (p.inner ? ` (about ${pkt(p.inner)})` : '');
    // TCP flags right after the protocol: a narrow "what" column cuts the end of the line.
    if (p.proto === 'tcp') return `${proto} [${p.flags || ''}] ${p.src} → ${p.dst} seq ${p.seq} ack ${p.ack} len ${p.len}`;
    return `${proto} ${p.src} → ${p.dst} len ${p.len}`;
  }
  const shadowList = (e) => (Array.isArray(e.shadowed) ? e.shadowed : []);
  function describe(e) {
    switch (e.event) {
      case 'step': return `${e.op || ''}${e.socket ? ' ' + e.socket : ''} → ${e.result}${e.expected ? ' (expected ' + e.expected + ')' : ''}${e.step ? '  ' + e.step : ''}`;
      case 'tx': case 'rx': return `${e.interface} ${pkt(e.packet)}`;
      case 'forward': return `${e.from} → ${e.to} ${pkt(e.packet)}`;
      case 'drop': return `${e.reason}${e.interface ? ' on ' + e.interface : ''}${e.link ? ' on link ' + e.link : ''}: ${pkt(e.packet)}`;
      case 'deliver': {
        const sh = shadowList(e);
        const group = groupOf.get(e.seq);
        return `→ ${e.socket} by ${e.match}  ${pkt(e.packet)}` +
          (e.data !== undefined ? ` ${JSON.stringify(e.data)}` : e.size !== undefined ? ` (${e.size} bytes)` : '') +
          (group ? `  (${group.join(', ')} share the address)` : '') + (sh.length ? `  shadowed: ${sh.join(', ')}` : '');
      }
      case 'accept': return `${e.listener} → ${e.socket} ${e.local} ⇄ ${e.remote}`;
      case 'socket': {
        const key = e.how === 'listen'
          ? `${(e.addresses || []).length ? e.addresses.join(',') : '*'}:${e.port}`
          : `${e.local} ⇄ ${e.remote}`;
        return `${e.socket} ${e.how === 'child' ? 'from ' + e.listener : e.how} ${e.proto} ${key}${e.device ? ' dev ' + e.device : ''}`;
      }
      case 'established': return `${e.socket} ${e.local} ⇄ ${e.remote}`;
      case 'receive': return `${e.socket} ${e.data !== undefined ? JSON.stringify(e.data) : e.size + ' bytes'}`;
      case 'sever': case 'error': return `${e.socket}: ${e.error}`;
      case 'close': return `${e.socket}${e.state ? ' (' + e.state + ')' : ''}`;
      case 'address_added': case 'address_removed': return `${e.interface} ${e.address}`;
      case 'interface_up': case 'interface_down': return `${e.interface}`;
      case 'link_up': case 'link_down': return `${e.link}`;
      case 'expect': return `${e.pointer} ${String(e.result).toUpperCase()}${e.detail ? ': ' + e.detail : ''}`;
      default: {
        const rest = Object.assign({}, e);
        for (const k of ['seq', 't', 'event', 'host', 'cause', 'step']) delete rest[k];
        return JSON.stringify(rest);
      }
    }
  }
  const describeCache = new Array(N);
  const desc = (i) => describeCache[i] || (describeCache[i] = describe(events[i]));

  // ---------------------------------------------------------------- topology
  const topo = header.topology || { hosts: {}, links: [] };
  const hostNames = new Set(Object.keys(topo.hosts || {}));
  for (const e of events) if (e.host) hostNames.add(e.host);
  const links = (topo.links || []).map((l, i) => Object.assign({ name: 'link' + i }, l));
  // Hosts in topology order, so a path a -> r1 -> r2 -> b reads left to right in the lanes and
  // top to bottom in the topology panel: breadth-first over the links, each connected part
  // started from its end (fewest links, an end host before a router, then by name); a host no
  // link reaches comes last. `depth` is the distance from the part's start (the panel's rows).
  const adjacent = new Map([...hostNames].sort().map((h) => [h, new Set()]));
  for (const l of links) {
    const hs = (l.between || []).map((b) => b.split('.')[0]);
    for (const a of hs) for (const b of hs) if (a !== b && adjacent.has(a) && adjacent.has(b)) adjacent.get(a).add(b);
  }
  const isRouter = (h) => !!((topo.hosts || {})[h] || {}).forwarding;
  const hosts = [], depth = new Map();
  {
    const starts = [...adjacent.keys()].sort((a, b) => (adjacent.get(a).size || Infinity) - (adjacent.get(b).size || Infinity) ||
      isRouter(a) - isRouter(b) || (a < b ? -1 : a > b ? 1 : 0));
    let base = 0;
    for (const start of starts) {
      if (depth.has(start)) continue;
      depth.set(start, base);
      const queue = [start];
      for (let q = 0; q < queue.length; q++) {
        const h = queue[q];
        hosts.push(h);
        base = Math.max(base, depth.get(h) + 1);
        for (const n of [...adjacent.get(h)].sort()) if (!depth.has(n)) { depth.set(n, depth.get(h) + 1); queue.push(n); }
      }
    }
  }

  // ---------------------------------------------------------------- per-event indexes
  const packetId = (e) => (e.packet && e.packet.id !== undefined ? e.packet.id : null);
  const txOf = new Int32Array(N).fill(-1);   // rx -> the tx it ends
  const rxOf = new Int32Array(N).fill(-1);   // tx -> the first rx it starts
  const rxBefore = new Int32Array(N).fill(-1);  // deliver/drop -> rx on the same host
  const effects = new Map();                 // seq -> [index] of events caused by it
  const packets = new Map();                 // packet id -> [index]
  {
    const lastTx = new Map(), lastRx = new Map();
    for (let i = 0; i < N; i++) {
      const e = events[i];
      if (e.cause !== undefined) {
        if (!effects.has(e.cause)) effects.set(e.cause, []);
        effects.get(e.cause).push(i);
      }
      const id = packetId(e);
      if (id === null) continue;
      if (!packets.has(id)) packets.set(id, []);
      packets.get(id).push(i);
      if (e.event === 'tx') lastTx.set(id, i);
      else if (e.event === 'rx') {
        const t = lastTx.get(id);
        if (t !== undefined && events[t].host !== e.host) { txOf[i] = t; if (rxOf[t] < 0) rxOf[t] = i; }
        lastRx.set(id + '\u0000' + e.host, i);
      } else if (e.event === 'deliver' || e.event === 'drop') {
        const r = lastRx.get(id + '\u0000' + e.host);
        if (r !== undefined) rxBefore[i] = r;
      }
    }
  }

  // ---------------------------------------------------------------- sockets: static facts
  // What each socket is. A `socket` record (trace-format.md, "Sockets") states it: how the socket
  // came to be, its listener and its key. Traces without those records are read for the same
  // facts from every event that names the socket (the binding never changes): its step, its
  // deliveries, its accept, and its name (LISTENER#N).
  const sockets = new Map();  // "host\0name" -> info
  const skey = (h, s) => h + '\u0000' + s;
  function sock(host, name, i) {
    const k = skey(host, name);
    let s = sockets.get(k);
    if (!s) {
      s = { host, name, proto: null, kind: null, level: null, device: null, port: null, addresses: new Set(),
            local: null, remote: null, parent: null, created: i, createdBy: null, inferred: false, recorded: false };
      const hash = name.lastIndexOf('#');
      if (hash > 0 && /^\d+$/.test(name.slice(hash + 1))) { s.parent = name.slice(0, hash); s.kind = 'connection'; s.level = 'connection'; }
      sockets.set(k, s);
    }
    return s;
  }
  for (let i = 0; i < N; i++) {
    const e = events[i];
    if (!e.host) continue;
    if (e.event === 'socket' && e.socket) {
      const s = sock(e.host, e.socket, i);
      s.recorded = true; s.createdBy = i; s.proto = e.proto || null; s.device = e.device || null;
      if (e.how === 'listen') {
        s.kind = 'listener'; s.parent = null; s.local = null; s.remote = null;
        s.addresses = new Set(e.addresses || []);
        s.level = s.addresses.size ? 'specific' : 'wildcard';
        s.port = e.port;
      } else {
        s.kind = 'connection'; s.level = 'connection'; s.local = e.local; s.remote = e.remote;
        s.port = endpoint(e.local).port;
        s.parent = e.how === 'child' ? e.listener : null;
      }
      continue;
    }
    if (e.socket && sockets.has(skey(e.host, e.socket)) && sockets.get(skey(e.host, e.socket)).recorded) {
      if (e.event === 'deliver') for (const name of shadowList(e)) sock(e.host, name, i);
      continue;  // the record said it all
    }
    if (e.event === 'step' && e.socket && (e.op === 'listen' || e.op === 'connect')) {
      if (e.result !== 'ok') continue;
      const s = sock(e.host, e.socket, i);
      if (s.createdBy === null) s.createdBy = i;
      if (e.proto) s.proto = e.proto;
      if (e.op === 'listen') {
        s.kind = 'listener';
        if (Array.isArray(e.addresses)) {
          s.level = e.addresses.length ? 'specific' : 'wildcard';
          e.addresses.forEach((a) => s.addresses.add(a));
        }
        if (e.port) s.port = e.port;
      } else {
        s.kind = 'connection'; s.level = 'connection';
        if (e.remote) s.remote = e.remote;
      }
      if (e.local) { s.local = e.local; const ep = endpoint(e.local); if (ep.port) s.port = ep.port; }
      if (e.device) s.device = e.device;
    } else if (e.event === 'deliver' && e.socket) {
      const s = sock(e.host, e.socket, i);
      if (e.proto) s.proto = e.proto; else if (e.packet) s.proto = e.packet.proto;
      const m = String(e.match || '');
      const base = m.replace('+device', '');
      if (m.includes('+device')) s.device = s.device || true;
      const dst = endpoint(e.packet && e.packet.dst);
      if (base === 'connection') {
        s.kind = 'connection'; s.level = 'connection';
        if (!s.local && e.packet) s.local = e.packet.dst;
        if (!s.remote && e.packet) s.remote = e.packet.src;
      } else if (base === 'specific' || base === 'wildcard') {
        s.kind = 'listener'; s.level = base;
        if (base === 'specific' && dst.addr) s.addresses.add(dst.addr);
      }
      if (dst.port !== null && s.kind === 'listener') s.port = dst.port;
      for (const name of shadowList(e)) sock(e.host, name, i);
    } else if (e.event === 'accept') {
      if (e.listener) { const l = sock(e.host, e.listener, i); l.kind = 'listener'; }
      if (e.socket) {
        const s = sock(e.host, e.socket, i);
        s.kind = 'connection'; s.level = 'connection'; s.parent = e.listener || s.parent;
        if (s.createdBy === null) s.createdBy = i;
        s.local = e.local || s.local; s.remote = e.remote || s.remote;
        if (!s.proto) s.proto = 'tcp';
      }
    } else if (e.event === 'established' && e.socket) {
      const s = sock(e.host, e.socket, i);
      s.kind = 'connection'; s.level = 'connection'; s.local = e.local || s.local; s.remote = e.remote || s.remote;
      if (!s.proto) s.proto = 'tcp';
    } else if (e.socket) {
      sock(e.host, e.socket, i);
    }
  }
  // Shadowed sockets never seen winning: infer the level from the winner's (they matched broader).
  for (let i = 0; i < N; i++) {
    const e = events[i];
    if (e.event !== 'deliver') continue;
    const win = sockets.get(skey(e.host, e.socket));
    for (const name of shadowList(e)) {
      const s = sockets.get(skey(e.host, name));
      if (!s.kind) s.kind = 'listener';
      if (!s.level) { s.level = String(e.match).startsWith('wildcard') || String(e.match).startsWith('specific') ? 'wildcard' : 'specific'; s.inferred = true; }
      if (s.port === null) s.port = endpoint(e.packet && e.packet.dst).port;
      if (!s.proto && win) s.proto = win.proto;
    }
  }
  for (const s of sockets.values()) {
    if (s.createdBy === null && s.parent) {  // a listener's connection: its SYN's delivery
      for (let i = s.created; i >= 0; i--) {
        const e = events[i];
        if (e.event === 'deliver' && e.host === s.host && e.socket === s.parent) { s.createdBy = i; break; }
        if (i < s.created - 2000) break;
      }
    }
  }
  // Sharing groups (reuse_port, or whatever else a policy lets share one address): listeners
  // open at a delivery with the winner's key (protocol, level, addresses, port, device). A
  // delivery to a group of two or more names every member: groupOf, seq -> [names].
  const groupOf = new Map();
  {
    const keyOf = (s) => [s.host, s.proto, s.level, [...s.addresses].sort().join(','), s.port, s.device].join('\u0000');
    const open = new Map();  // key -> Set of names
    for (let i = 0; i < N; i++) {
      const e = events[i];
      if (e.socket && ((e.event === 'socket' && e.how === 'listen') || (e.event === 'step' && e.op === 'listen' && e.result === 'ok'))) {
        const k = keyOf(sockets.get(skey(e.host, e.socket)));
        if (!open.has(k)) open.set(k, new Set());
        open.get(k).add(e.socket);
      } else if ((e.event === 'close' || e.event === 'sever') && e.socket && sockets.has(skey(e.host, e.socket))) {
        const set = open.get(keyOf(sockets.get(skey(e.host, e.socket))));
        if (set) set.delete(e.socket);
      } else if (e.event === 'deliver' && e.socket && !String(e.match || '').startsWith('connection')) {
        const set = open.get(keyOf(sockets.get(skey(e.host, e.socket))));
        if (set && set.size > 1 && set.has(e.socket)) groupOf.set(e.seq, [...set]);
      }
    }
  }
  function levelOf(s) {
    if (!s || !s.level) return null;
    if (s.level === 'connection') return s.device ? 'connection+device' : 'connection';
    return s.level + (s.device ? '+device' : '');
  }
  function localText(s) {
    if (s.local) return s.local;
    const port = s.port === null ? '?' : s.port;
    if (s.level === 'wildcard') return `*:${port}`;
    if (s.addresses.size) return [...s.addresses].map((a) => (a.includes(':') ? `[${a}]` : a) + ':' + port).join(' ');
    return `?:${port}`;
  }

  // ---------------------------------------------------------------- state at the cursor
  function stateAt(cursor) {
    const st = new Map();  // key -> {open, closed, severed, error, shadowedBy:Set, uncovered, state, seen}
    const get = (h, n) => {
      const k = skey(h, n);
      let x = st.get(k);
      if (!x) { x = { open: false, closed: null, severed: null, error: null, shadowedBy: new Set(), wasShadowedBy: new Set(), uncovered: null, state: '', seen: false }; st.set(k, x); }
      return x;
    };
    const addr = new Map();  // "host\0iface" -> [addresses]
    const ifUp = new Map(), linkUp = new Map();
    for (const [h, hd] of Object.entries(topo.hosts || {})) {
      for (const [n, i] of Object.entries(hd.interfaces || {})) {
        addr.set(skey(h, n), (i.addresses || []).map((a) => ({ a, since: null })));
        ifUp.set(skey(h, n), i.up !== false);
      }
    }
    for (let i = 0; i <= cursor && i < N; i++) {
      const e = events[i];
      switch (e.event) {
        case 'socket': {
          const x = get(e.host, e.socket); x.open = true; x.seen = true; x.closed = null; x.severed = null;
          x.state = e.how === 'listen' ? 'listening' : e.how === 'child' ? 'syn_received' : e.proto === 'udp' ? 'connected' : 'connecting';
          break;
        }
        case 'step':
          if (e.socket && e.result === 'ok' && (e.op === 'listen' || e.op === 'connect')) {
            const x = get(e.host, e.socket); x.open = true; x.seen = true; x.closed = null;
            // A UDP connect is done when the step returns; a TCP one waits for the handshake.
            x.state = e.op === 'listen' ? 'listening' : e.proto === 'udp' ? 'connected' : 'connecting';
          }
          break;
        case 'deliver': {
          const x = get(e.host, e.socket);
          if (!x.seen) { x.open = true; x.seen = true; }
          const m = String(e.match || '');
          if (m.startsWith('wildcard') && x.wasShadowedBy.size) {
            const stillOpen = [...x.shadowedBy].filter((w) => get(e.host, w).open);
            if (!stillOpen.length) x.uncovered = { at: i, by: [...x.wasShadowedBy] };
          }
          for (const name of shadowList(e)) {
            const y = get(e.host, name);
            if (!y.seen) { y.open = true; y.seen = true; }
            const ws = sockets.get(skey(e.host, e.socket));
            if (!ws || ws.kind === 'listener') { y.shadowedBy.add(e.socket); y.wasShadowedBy.add(e.socket); y.uncovered = null; }
          }
          if (m.startsWith('connection') && !x.state) x.state = 'connected';
          break;
        }
        case 'accept': { const x = get(e.host, e.socket); x.open = true; x.seen = true; x.state = 'established'; break; }
        case 'established': { const x = get(e.host, e.socket); x.open = true; x.seen = true; x.state = 'established'; break; }
        case 'error': if (e.socket) get(e.host, e.socket).error = e.error; break;
        case 'sever': { const x = get(e.host, e.socket); x.severed = { at: i, error: e.error }; x.open = false; break; }
        case 'close': {
          const x = get(e.host, e.socket); x.open = false; x.closed = { at: i, state: e.state };
          for (const [k, y] of st) if (k.startsWith(e.host + '\u0000')) y.shadowedBy.delete(e.socket);
          break;
        }
        case 'address_added': {
          // The run opens by adding every configured address (the header's, and loopback's):
          // an address is listed once, and "(new)" only when a step added it.
          const k = skey(e.host, e.interface);
          if (!addr.has(k)) addr.set(k, []);
          const list = addr.get(k);
          if (!list.some((x) => x.a === e.address)) list.push({ a: e.address, since: e.step !== undefined ? i : null });
          break;
        }
        case 'address_removed': {
          const k = skey(e.host, e.interface);
          if (addr.has(k)) addr.set(k, addr.get(k).filter((x) => x.a !== e.address));
          break;
        }
        case 'interface_down': ifUp.set(skey(e.host, e.interface), false); break;
        case 'interface_up': ifUp.set(skey(e.host, e.interface), true); break;
        case 'link_down': linkUp.set(e.link, false); break;
        case 'link_up': linkUp.set(e.link, true); break;
        default: break;
      }
    }
    return { sockets: st, addr, ifUp, linkUp };
  }

  // ---------------------------------------------------------------- header, badges
  $('scenario').textContent = header.scenario || '';
  $('meta').textContent = `policy ${header.policy || 'seed'} · seed ${header.seed} · ${N} events` +
    (summary ? ` · ends ${fmtTime(summary.t)}` : ' · no summary (cut short)');
  {
    const ex = summary && summary.expectations ? summary.expectations : null;
    const steps = summary && summary.steps ? summary.steps : null;
    let pass = 0, fail = 0;
    for (const e of events) if (e.event === 'expect') { if (e.result === 'pass') pass++; else fail++; }
    if (ex) { pass = ex.passed; fail = ex.failed; }
    // The run's verdict, as `netsim run` exits: a resource guard that stopped it fails it even
    // when every expectation held (exit 1), so nothing on the page is green then.
    const guard = events.find((e) => e.event === 'guard');
    let verdict;
    if (guard) verdict = ['fail', `stopped by the ${guard.guard} guard` + (guard.limit !== undefined ? ` (limit ${guard.limit})` : ''), `seq ${guard.seq}: the run did not finish; exit 1`];
    else if (!summary) verdict = ['info', 'cut short', 'the trace ends without a summary'];
    else if (fail || (steps && steps.failed)) verdict = ['fail', 'FAIL', 'a step or an expectation failed; exit 1'];
    else verdict = ['pass', 'PASS', 'every step and expectation held; exit 0'];
    let html = `<span id="verdict" class="badge ${verdict[0]}" title="${esc(verdict[2])}"${guard ? ` data-seq="${guard.seq}"` : ''}>${esc(verdict[1])}</span>` +
      `<button class="badge ${verdict[0] === 'pass' ? 'pass' : 'info'}" data-expect="pass" title="show passed expectations">${pass} passed</button>` +
      `<button class="badge ${fail ? 'fail' : 'info'}" data-expect="fail" title="show failed expectations">${fail} failed</button>`;
    if (steps) html += `<span class="badge ${steps.failed ? 'fail' : 'info'}">steps ${steps.passed}/${steps.passed + steps.failed}</span>`;
    $('badges').innerHTML = html;
    $('badges').addEventListener('click', (ev) => {
      const v = ev.target.closest('#verdict[data-seq]');
      if (v) { select(bySeq.get(+v.dataset.seq), true); return; }
      const b = ev.target.closest('[data-expect]');
      if (!b) return;
      $('f-expect').value = b.dataset.expect; refilter();
    });
  }

  // ---------------------------------------------------------------- filters
  const kinds = [...new Set(events.map((e) => e.event))].sort();
  for (const h of hosts) $('f-host').insertAdjacentHTML('beforeend', `<option value="${esc(h)}">${esc(h)}</option>`);
  $('f-kinds').innerHTML = kinds.map((k) => `<label><input type="checkbox" value="${esc(k)}" checked> <span class="k-${esc(k)}">${esc(k)}</span></label>`).join('');
  let rows = new Int32Array(0);      // filtered event indexes, in order
  let isContext = new Uint8Array(0); // 1 where a row is only context
  function eventPorts(e) {
    const ports = [];
    const add = (x) => { const p = endpoint(x).port; if (p !== null) ports.push(p); };
    if (e.packet) { add(e.packet.src); add(e.packet.dst); if (e.packet.inner) { add(e.packet.inner.src); add(e.packet.inner.dst); } }
    add(e.local); add(e.remote);
    if (e.port !== undefined) ports.push(+e.port);
    if (e.socket) { const s = sockets.get(skey(e.host, e.socket)); if (s && s.port !== null) ports.push(s.port); }
    return ports;
  }
  function refilter() {
    const host = $('f-host').value;
    const sockText = $('f-socket').value.trim();
    const portText = $('f-port').value.trim();
    const port = portText === '' ? null : +portText;
    const expect = $('f-expect').value;
    const ctx = Math.max(0, Math.min(50, +$('f-context').value || 0));
    const on = new Set([...$('f-kinds').querySelectorAll('input:checked')].map((x) => x.value));
    const match = new Uint8Array(N);
    let any = false;
    for (let i = 0; i < N; i++) {
      const e = events[i];
      if (!on.has(e.event)) continue;
      if (host && e.host !== host) continue;
      if (expect && !(e.event === 'expect' && e.result === expect)) continue;
      if (sockText) {
        const names = [e.socket, e.listener, ...shadowList(e)].filter(Boolean);
        if (!names.some((n) => n.includes(sockText))) continue;
      }
      if (port !== null && !eventPorts(e).includes(port)) continue;
      match[i] = 1; any = true;
    }
    const out = [], ctxFlags = [];
    if (any) {
      let lastAdded = -1;
      for (let i = 0; i < N; i++) {
        if (!match[i]) continue;
        for (let j = Math.max(lastAdded + 1, i - ctx); j < i; j++) { out.push(j); ctxFlags.push(1); }
        out.push(i); ctxFlags.push(0); lastAdded = i;
        let j = i + 1;
        for (; j <= Math.min(N - 1, i + ctx) && !match[j]; j++) { out.push(j); ctxFlags.push(1); }
        lastAdded = j - 1;
      }
    }
    rows = Int32Array.from(out);
    isContext = Uint8Array.from(ctxFlags);
    rowOf = new Map();
    rows.forEach((ev, r) => rowOf.set(ev, r));
    const shown = rows.length - ctxFlags.reduce((a, b) => a + b, 0);
    $('count').textContent = `${shown} of ${N} events` + (rows.length > shown ? ` (+${rows.length - shown} context)` : '');
    document.body.dataset.rows = String(rows.length);
    $('spacer').style.height = rows.length * ROW + 'px';
    // The list was scrolled for the old rows: keep the selected event in view if it is still
    // listed, else stay where the new list allows (the chart canvas follows the scroll position,
    // so the browser alone would keep a position past the end and show nothing).
    const maxTop = Math.max(0, rows.length * ROW - scroller.clientHeight);
    if (rowOf.has(selected)) {
      const top = rowOf.get(selected) * ROW;
      if (top < scroller.scrollTop || top + ROW > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = Math.min(maxTop, Math.max(0, top - scroller.clientHeight / 3));
    } else if (scroller.scrollTop > maxTop) {
      scroller.scrollTop = maxTop;
    }
    render();
  }
  let rowOf = new Map();
  for (const id of ['f-host', 'f-expect', 'f-lanes']) $(id).addEventListener('change', () => { if (id === 'f-lanes') layoutLanes(); refilter(); });
  for (const id of ['f-socket', 'f-port', 'f-context']) {
    let timer = 0;
    $(id).addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(refilter, 120); });
  }
  $('f-kinds').addEventListener('change', refilter);

  // ---------------------------------------------------------------- lanes
  let lanes = [], laneIndex = new Map();
  function layoutLanes() {
    lanes = []; laneIndex = new Map();
    const bySocket = $('f-lanes').value === 'socket';
    for (const h of hosts) {
      laneIndex.set(h, lanes.length); lanes.push({ label: h, host: h });
      if (!bySocket) continue;
      const names = [...sockets.values()].filter((s) => s.host === h).sort((a, b) => a.created - b.created);
      for (const s of names) { laneIndex.set(skey(h, s.name), lanes.length); lanes.push({ label: s.name, host: h, socket: s.name }); }
    }
    labelLanes();
  }
  function labelLanes() {
    $('lane-labels').innerHTML = lanes.map((l, i) => `<span style="left:${i * LANE_W + LANE_W / 2}px;max-width:${LANE_W - 2}px" title="${esc(l.host + (l.socket ? ' / ' + l.socket : ''))}">${l.socket ? '' : '<b>'}${esc(l.label)}${l.socket ? '' : '</b>'}</span>`).join('');
  }
  function laneOf(e) {
    if ($('f-lanes').value === 'socket') {
      const name = e.socket || (e.event === 'accept' ? e.listener : null);
      if (name && laneIndex.has(skey(e.host, name))) return laneIndex.get(skey(e.host, name));
    }
    if (e.host && laneIndex.has(e.host)) return laneIndex.get(e.host);
    return -1;
  }

  // ---------------------------------------------------------------- the list and the chart
  const scroller = $('scroller'), rowsEl = $('rows'), canvas = $('chart');
  let selected = -1;  // event index
  function chartWidth() {
    // The chart takes at most 45% of the width, and leaves the list's columns about 120 px
    // for "what".
    const room = Math.max(80, Math.min(scroller.clientWidth * 0.45, scroller.clientWidth - 480));
    const w = Math.floor(room / Math.max(1, lanes.length));
    const lw = Math.max(LANE_MIN, Math.min(LANE_MAX, w));
    if (lw !== LANE_W) { LANE_W = lw; labelLanes(); }
    return Math.max(LANE_W * lanes.length, 80);
  }
  // The "what" cell: a TCP segment's flags lead it, so a narrow column never cuts them.
  function whatHtml(i) {
    const p = events[i].packet;
    if (!p || p.proto !== 'tcp') return esc(desc(i));
    const flags = `[${p.flags || ''}]`;
    return `<span class="flags">${esc(flags)}</span> ${esc(desc(i).replace(`TCP ${flags} `, 'TCP '))}`;
  }
  function render() {
    const cw = chartWidth();
    const width = scroller.clientWidth;
    rowsEl.style.width = Math.max(200, width - cw) + 'px';
    $('lane-labels').style.width = cw + 'px';
    const top = scroller.scrollTop, h = scroller.clientHeight;
    const first = Math.max(0, Math.floor(top / ROW) - 5);
    const last = Math.min(rows.length - 1, Math.ceil((top + h) / ROW) + 5);
    let html = '';
    for (let r = first; r <= last; r++) {
      const i = rows[r], e = events[i];
      html += `<div class="row${i === selected ? ' sel' : ''}${isContext[r] ? ' ctx' : ''}" style="top:${r * ROW}px" data-i="${i}" data-kind="${esc(e.event)}">` +
        `<span class="c-seq">${e.seq}</span><span class="c-t">${fmtTime(e.t)}</span><span class="c-host">${esc(e.host || '')}</span>` +
        `<span class="c-kind k-${esc(e.event)}">${esc(e.event)}</span>` +
        `<span class="c-what" title="${esc(desc(i))}">${e.event === 'expect' ? `<span class="badge ${e.result === 'pass' ? 'pass' : 'fail'}">${esc(e.result)}</span> ` : ''}` +
        `${whatHtml(i)}</span></div>`;
    }
    rowsEl.innerHTML = html;
    drawChart(first, last, top, h, cw);
  }
  const colors = { tx: '#2f6fdb', rx: '#138a8a', deliver: '#1f8f3a', drop: '#d2342c', step: '#6b7385', expect: '#7b4bc4', sever: '#d97706', error: '#d2342c', forward: '#8a5a13' };
  function drawChart(first, last, top, h, cw) {
    const dpr = window.devicePixelRatio || 1;
    canvas.style.top = top + 'px';
    canvas.style.width = cw + 'px'; canvas.style.height = h + 'px';
    if (canvas.width !== Math.round(cw * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(cw * dpr); canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cw, h);
    const x = (lane) => lane * LANE_W + LANE_W / 2;
    const y = (r) => r * ROW + ROW / 2 - top;
    g.strokeStyle = '#e4e7ee'; g.lineWidth = 1;
    for (let l = 0; l < lanes.length; l++) { g.beginPath(); g.moveTo(x(l) + 0.5, 0); g.lineTo(x(l) + 0.5, h); g.stroke(); }
    if (!rows.length) return;
    // packet hops: tx -> rx arrows
    const arrow = (r1, r2, l1, l2, color) => {
      const x1 = x(l1), y1 = y(r1), x2 = x(l2), y2 = y(r2);
      g.strokeStyle = color; g.fillStyle = color; g.lineWidth = 1.2;
      g.beginPath(); g.moveTo(x1, y1); g.lineTo(x2, y2); g.stroke();
      const a = Math.atan2(y2 - y1, x2 - x1);
      g.beginPath(); g.moveTo(x2, y2); g.lineTo(x2 - 7 * Math.cos(a - 0.4), y2 - 7 * Math.sin(a - 0.4));
      g.lineTo(x2 - 7 * Math.cos(a + 0.4), y2 - 7 * Math.sin(a + 0.4)); g.closePath(); g.fill();
    };
    for (let r = first; r <= last; r++) {
      const i = rows[r], e = events[i];
      if (e.event === 'rx' && txOf[i] >= 0 && rowOf.has(txOf[i])) {
        arrow(rowOf.get(txOf[i]), r, laneOf(events[txOf[i]]), laneOf(e), txOf[i] === selected || i === selected ? '#e08a00' : '#8fb0e8');
      } else if (e.event === 'tx' && rxOf[i] >= 0 && rowOf.has(rxOf[i]) && rowOf.get(rxOf[i]) > last) {
        arrow(r, rowOf.get(rxOf[i]), laneOf(e), laneOf(events[rxOf[i]]), i === selected ? '#e08a00' : '#8fb0e8');
      } else if ((e.event === 'deliver' || e.event === 'drop') && rxBefore[i] >= 0 && rowOf.has(rxBefore[i]) && laneOf(e) !== laneOf(events[rxBefore[i]])) {
        arrow(rowOf.get(rxBefore[i]), r, laneOf(events[rxBefore[i]]), laneOf(e), '#9ccfa8');
      }
    }
    for (let r = first; r <= last; r++) {
      const i = rows[r], e = events[i], l = laneOf(e);
      if (l < 0) continue;
      const cx = x(l), cy = y(r);
      g.fillStyle = colors[e.event] || '#9aa1b1'; g.strokeStyle = g.fillStyle; g.lineWidth = 2;
      if (e.event === 'drop') {
        g.beginPath(); g.moveTo(cx - 5, cy - 5); g.lineTo(cx + 5, cy + 5); g.moveTo(cx + 5, cy - 5); g.lineTo(cx - 5, cy + 5); g.stroke();
      } else if (e.event === 'deliver') {
        g.beginPath(); g.arc(cx, cy, 5, 0, 2 * Math.PI); g.fill();
      } else if (e.event === 'sever') {
        g.beginPath(); g.moveTo(cx, cy - 6); g.lineTo(cx + 6, cy); g.lineTo(cx, cy + 6); g.lineTo(cx - 6, cy); g.closePath(); g.fill();
      } else {
        g.beginPath(); g.arc(cx, cy, 3, 0, 2 * Math.PI); g.fill();
      }
      if (i === selected) { g.strokeStyle = '#e08a00'; g.lineWidth = 2; g.beginPath(); g.arc(cx, cy, 8, 0, 2 * Math.PI); g.stroke(); }
    }
  }
  let pending = false;
  scroller.addEventListener('scroll', () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => { pending = false; render(); });
  });
  window.addEventListener('resize', () => render());
  rowsEl.addEventListener('click', (ev) => {
    const row = ev.target.closest('.row');
    if (row) select(+row.dataset.i, false);
  });
  canvas.addEventListener('click', (ev) => {
    const rect = canvas.getBoundingClientRect();
    const r = Math.floor((ev.clientY - rect.top + scroller.scrollTop) / ROW);
    if (r >= 0 && r < rows.length) select(rows[r], false);
  });
  scroller.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowDown' && ev.key !== 'ArrowUp') return;
    ev.preventDefault();
    const r = rowOf.has(selected) ? rowOf.get(selected) : -1;
    const next = Math.max(0, Math.min(rows.length - 1, r + (ev.key === 'ArrowDown' ? 1 : -1)));
    if (rows.length) select(rows[next], true);
  });

  // ---------------------------------------------------------------- selection, details
  const evLink = (i) => `<a class="ev" data-i="${i}">#${events[i].seq}</a>`;
  function select(i, scroll) {
    if (i < 0 || i >= N) return;
    selected = i;
    const e = events[i];
    if (!rowOf.has(i)) {  // make it visible: clear filters
      $('f-host').value = ''; $('f-socket').value = ''; $('f-port').value = ''; $('f-expect').value = '';
      for (const c of $('f-kinds').querySelectorAll('input')) c.checked = true;
      refilter();
    }
    if (scroll) {
      const r = rowOf.get(i);
      const top = r * ROW, h = scroller.clientHeight;
      if (top < scroller.scrollTop || top + ROW > scroller.scrollTop + h) scroller.scrollTop = Math.max(0, top - h / 3);
    }
    const hash = '#seq=' + e.seq;
    if (location.hash !== hash) {
      try { history.replaceState(null, '', hash); } catch (err) { /* file:// in some browsers */ }
    }
    $('permalink').href = hash;
    setCursor(i);
    showDetail(i);
    showWhy(i);
    render();
  }
  function showDetail(i) {
    const e = events[i];
    let html = `<p><b class="k-${esc(e.event)}">${esc(e.event)}</b> · seq ${e.seq} · t = ${fmtTime(e.t)}${e.host ? ' · ' + esc(e.host) : ''}${e.step ? ' · step ' + esc(e.step) : ''}</p>`;
    html += `<p>${esc(desc(i))}</p>`;
    if (e.cause !== undefined && bySeq.has(e.cause)) {
      const c = bySeq.get(e.cause);
      html += `<p>caused by ${evLink(c)} ${esc(events[c].event)} ${esc(events[c].host || '')}</p>`;
    }
    const fx = effects.get(e.seq) || [];
    if (fx.length) html += `<p>led to ${fx.slice(0, 20).map((j) => `${evLink(j)} ${esc(events[j].event)}`).join(', ')}${fx.length > 20 ? ' …' : ''}</p>`;
    const id = packetId(e);
    if (id !== null && packets.has(id)) {
      const hops = packets.get(id);
      html += `<p>packet ${esc(id)}: ${hops.slice(0, 30).map((j) => `${evLink(j)} ${esc(events[j].event)} ${esc(events[j].host || '')}${events[j].interface ? '.' + esc(events[j].interface) : ''}`).join(' → ')}${hops.length > 30 ? ' …' : ''}</p>`;
    }
    html += `<pre>${esc(JSON.stringify(e, null, 2))}</pre>`;
    $('detail').innerHTML = html;
  }
  function createdText(s) {
    if (!s) return '';
    if (s.createdBy === null) return `first seen at ${evLink(s.created)}`;
    const c = events[s.createdBy];
    const what = c.event === 'socket' ? (c.how === 'child' ? `a SYN to listener ${esc(c.listener)}` : `step ${esc(c.how)} ${esc(c.step || '')}`)
      : c.event === 'step' ? `step ${esc(c.op)} ${esc(c.step || '')}` : c.event === 'accept' ? `accept on ${esc(c.listener)}` : `${esc(c.event)}${c.socket ? ' to ' + esc(c.socket) : ''}`;
    return `created by ${evLink(s.createdBy)} ${what} at ${fmtTime(c.t)}`;
  }
  function showWhy(i) {
    const e = events[i];
    if (e.event !== 'deliver') {
      $('why').innerHTML = e.event === 'drop' && e.reason === 'no_listener'
        ? `<p>No socket matched at any of the six levels: the packet was dropped (<code>no_listener</code>).</p>`
        : '<p class="hint">Select a delivery to see how the socket was chosen.</p>';
      return;
    }
    const match = String(e.match || '');
    const winIdx = LEVELS.findIndex((l) => l[0] === match);
    const win = sockets.get(skey(e.host, e.socket));
    const shadowed = shadowList(e).map((n) => sockets.get(skey(e.host, n)));
    const rx = rxBefore[i] >= 0 ? events[rxBefore[i]] : null;
    let html = `<p>Packet ${esc(pkt(e.packet))}${rx ? ` arrived on <b>${esc(rx.interface)}</b> (${evLink(rxBefore[i])})` : ''}. ` +
      `Lookup levels, first match wins (netsim docs/semantics.md 5.1):</p><table>`;
    LEVELS.forEach(([name, what], li) => {
      let cls = '', cell = '';
      const here = shadowed.filter((s) => levelOf(s) === name);
      if (li < winIdx) {
        cell = '<span class="tag none">no match</span>';
      } else if (li === winIdx) {
        cls = 'win';
        cell = `<span class="tag winner">winner</span> <b>${esc(e.socket)}</b> ${win ? esc(localText(win)) : ''}<br><small>${createdText(win)}</small>`;
      } else {
        cell = here.length ? '' : '<span class="tag none">not reached</span>';
      }
      if (li !== winIdx && here.length) {
        cls = 'shad';
        cell += here.map((s) => `<span class="tag shadowed">shadowed</span> <b>${esc(s.name)}</b> ${esc(localText(s))}${s.inferred ? ' <small>(level inferred)</small>' : ''}<br><small>${createdText(s)}</small>`).join('<br>');
      }
      html += `<tr class="level ${cls}"><td class="lv">${li + 1}</td><td><b>${esc(name)}</b><br><small>${esc(what)}</small></td><td>${cell}</td></tr>`;
    });
    const unplaced = shadowed.filter((s) => !LEVELS.some((l) => l[0] === levelOf(s)));
    if (unplaced.length) html += `<tr class="level shad"><td class="lv">?</td><td>broader</td><td>${unplaced.map((s) => `<span class="tag shadowed">shadowed</span> <b>${esc(s.name)}</b>`).join('<br>')}</td></tr>`;
    html += '</table>';
    html += `<p>Winner: <b id="why-winner">${esc(e.socket)}</b> by <b>${esc(match)}</b>; shadowed: <b id="why-shadowed">${shadowList(e).length ? esc(shadowList(e).join(', ')) : 'none'}</b>.</p>`;
    const group = groupOf.get(e.seq);
    if (group) {
      html += `<p>Sharing group: <b id="why-group">${esc(group.join(', '))}</b>. These ${group.length} sockets hold the same ` +
        `address and port (reuse_port); the policy picked <b>${esc(e.socket)}</b> for this packet (by its addresses and ports), ` +
        `not ${esc(group.filter((n) => n !== e.socket).join(', '))}.</p>`;
    }
    if (!shadowList(e).length) html += '<p class="hint">No other socket would have matched at a broader level.</p>';
    $('why').innerHTML = html;
  }
  for (const id of ['detail', 'why', 'sockets']) {
    $(id).addEventListener('click', (ev) => {
      const a = ev.target.closest('a.ev');
      if (a) { ev.preventDefault(); select(+a.dataset.i, true); }
    });
  }

  // ---------------------------------------------------------------- the cursor: topology, sockets
  const slider = $('cursor');
  slider.max = String(Math.max(0, N - 1));
  let cursor = Math.max(0, N - 1);
  function setCursor(i) {
    cursor = i; slider.value = String(i);
    const e = events[i];
    $('cursor-label').textContent = e ? `t = ${fmtTime(e.t)} · after seq ${e.seq}` : 'empty trace';
    scheduleState();
  }
  let stateTimer = 0;
  function scheduleState() { cancelAnimationFrame(stateTimer); stateTimer = requestAnimationFrame(drawState); }
  slider.addEventListener('input', () => setCursor(+slider.value));
  $('cursor-end').addEventListener('click', () => setCursor(Math.max(0, N - 1)));
  $('show-closed').addEventListener('change', scheduleState);
  function drawState() {
    const st = stateAt(cursor);
    drawTopology(st);
    drawSockets(st);
  }
  function drawTopology(st) {
    const cols = new Map();
    for (const h of hosts) { const d = depth.get(h); if (!cols.has(d)) cols.set(d, []); cols.get(d).push(h); }
    const W = 165, GAP = 14, VGAP = 34, pos = new Map();
    const boxes = [];
    const ifaceNames = (h) => {
      const set = new Set(Object.keys(((topo.hosts || {})[h] || {}).interfaces || {}));
      for (const k of st.addr.keys()) if (k.startsWith(h + '\u0000')) set.add(k.split('\u0000')[1]);
      return [...set].sort();
    };
    // Rows by distance: a chain reads top to bottom in the narrow panel.
    let yy = 10, width = 0;
    for (const d of [...cols.keys()].sort((a, b) => a - b)) {
      let xx = 10, rowH = 0;
      for (const h of cols.get(d)) {
        const lines = [];
        for (const n of ifaceNames(h)) {
          const up = st.ifUp.get(skey(h, n)) !== false;
          const addrs = st.addr.get(skey(h, n)) || [];
          lines.push({ text: n + (up ? '' : ' (down)'), cls: up ? 'if' : 'down' });
          for (const a of addrs) lines.push({ text: '  ' + a.a + (a.since !== null ? '  (new)' : ''), cls: a.since !== null ? 'new' : 'addr' });
          if (!addrs.length) lines.push({ text: '  (no address)', cls: 'down' });
        }
        const hh = 24 + lines.length * 14 + 6;
        pos.set(h, { x: xx, y: yy, w: W, h: hh });
        boxes.push({ h, x: xx, y: yy, hh, lines });
        xx += W + GAP; rowH = Math.max(rowH, hh);
      }
      width = Math.max(width, xx - GAP + 10);
      yy += rowH + VGAP;
    }
    const height = yy - VGAP + 6;
    let svg = '', labels = '';
    for (const l of links) {
      const ends = (l.between || []).map((b) => pos.get(b.split('.')[0])).filter(Boolean);
      const down = st.linkUp.get(l.name) === false;
      const label = `${l.name}${l.latency_ns !== undefined ? ' ' + fmtTime(l.latency_ns) : ''}${l.bandwidth_bps ? ' ' + (l.bandwidth_bps >= 1e9 ? l.bandwidth_bps / 1e9 + 'G' : l.bandwidth_bps / 1e6 + 'M') : ''}${l.loss ? ' loss ' + (l.loss * 100) + '%' : ''}${down ? ' DOWN' : ''}`;
      const mid = (p) => [p.x + p.w / 2, p.y + p.h / 2];
      const cx = ends.reduce((s, p) => s + mid(p)[0], 0) / (ends.length || 1);
      const cy = ends.reduce((s, p) => s + mid(p)[1], 0) / (ends.length || 1);
      for (const p of ends) svg += `<line x1="${mid(p)[0]}" y1="${mid(p)[1]}" x2="${cx}" y2="${cy}" stroke="${down ? '#d2342c' : '#8b95a8'}" stroke-width="2"${down ? ' stroke-dasharray="5 4"' : ''}/>`;
      let lx = cx, ly = cy;
      if (ends.length === 2) {  // label in the gap between the two boxes
        const [a, b] = ends[0].y <= ends[1].y ? ends : [ends[1], ends[0]];
        if (b.y > a.y + a.h) { ly = (a.y + a.h + b.y) / 2 + 4; lx = (mid(a)[0] + mid(b)[0]) / 2 + 4; }
      }
      width = Math.max(width, lx + label.length * 6.2 + 8);
      labels += `<text x="${lx}" y="${ly}" text-anchor="start" fill="${down ? '#d2342c' : '#4a5366'}" style="paint-order:stroke" stroke="#fdfdff" stroke-width="3">${esc(label)}</text>`;
    }
    for (const b of boxes) {
      const router = ((topo.hosts || {})[b.h] || {}).forwarding;
      svg += `<g><rect x="${b.x}" y="${b.y}" width="${W}" height="${b.hh}" rx="5" fill="${router ? '#fff6e6' : '#f1f6ff'}" stroke="${router ? '#e0a84e' : '#7d9bd1'}"/>` +
        `<text x="${b.x + 8}" y="${b.y + 16}" font-weight="700">${esc(b.h)}${router ? ' (router)' : ''}</text>`;
      b.lines.forEach((l, k) => {
        const color = l.cls === 'down' ? '#9aa1b1' : l.cls === 'new' ? '#1f8f3a' : l.cls === 'if' ? '#39445a' : '#1d2330';
        svg += `<text x="${b.x + 8}" y="${b.y + 34 + k * 14}" fill="${color}" xml:space="preserve" font-family="ui-monospace,Menlo,monospace" font-size="10.5">${esc(l.text)}</text>`;
      });
      svg += '</g>';
    }
    svg += labels;
    const el = $('topology');
    el.setAttribute('width', width); el.setAttribute('height', height + 4);
    el.style.maxWidth = '100%'; el.style.height = 'auto';
    el.setAttribute('viewBox', `0 0 ${width} ${height + 4}`);
    el.innerHTML = svg;
  }
  function drawSockets(st) {
    const showClosed = $('show-closed').checked;
    let html = '';
    for (const h of hosts) {
      const list = [...sockets.values()].filter((s) => s.host === h).sort((a, b) => a.created - b.created);
      let body = '';
      for (const s of list) {
        const x = st.sockets.get(skey(h, s.name));
        if (!x || !x.seen) continue;
        const gone = !x.open;
        if (gone && !showClosed) continue;
        const tags = [];
        if (x.severed) tags.push(`<span class="tag severed" title="${esc(x.severed.error)}">severed</span>`);
        else if (x.closed) tags.push(`<span class="tag closed">closed${x.closed.state ? ' ' + esc(x.closed.state) : ''}</span>`);
        else tags.push(`<span class="tag open">${esc(x.state || 'open')}</span>`);
        if (x.shadowedBy.size && !gone) tags.push(`<span class="tag shadowed" title="a more specific socket takes its traffic">shadowed by ${esc([...x.shadowedBy].join(', '))}</span>`);
        if (x.uncovered && !gone) tags.push(`<span class="tag uncovered" title="receives again since ${esc(x.uncovered.by.join(', '))} closed">uncovered (${esc(x.uncovered.by.join(', '))} closed)</span>`);
        if (x.error) tags.push(`<span class="tag severed">${esc(x.error)}</span>`);
        const kind = s.kind === 'listener' ? `listen ${s.level || ''}` : s.parent ? `connection from ${s.parent}` : s.kind || '?';
        body += `<tr class="${gone ? 'gone' : ''}" data-socket="${esc(s.name)}"><td><b>${esc(s.name)}</b></td><td>${esc((s.proto || '') + ' ' + kind)}${s.device && s.device !== true ? ' dev ' + esc(s.device) : s.device ? ' +dev' : ''}</td>` +
          `<td class="mono">${esc(localText(s))}</td><td class="mono">${esc(s.remote || '')}</td><td class="status">${tags.join(' ')}</td></tr>`;
      }
      if (!body) continue;
      html += `<div class="sockhost">${esc(h)}</div><table class="socktable"><tr><th>socket</th><th>kind</th><th>local</th><th>remote</th><th>status</th></tr>${body}</table>`;
    }
    $('sockets').innerHTML = html || '<p class="hint">No sockets yet at this time.</p>';
  }

  // ---------------------------------------------------------------- start
  function fromHash() {
    const m = /seq=(\d+)/.exec(location.hash);
    if (m && bySeq.has(+m[1])) { select(bySeq.get(+m[1]), true); return true; }
    return false;
  }
  window.addEventListener('hashchange', fromHash);
  layoutLanes();
  refilter();
  if (!fromHash()) setCursor(Math.max(0, N - 1));
  document.body.dataset.ready = '1';
})();
