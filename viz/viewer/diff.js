// netsim diff page: two or more traces of one scenario side by side, step run by step run
// (viz/trace_diff.h reduces each trace to its decisions and lines the runs up). The first
// difference is on top; each decision links to its trace's viewer page when there is one.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
  const data = JSON.parse($('netsim-diff').textContent);
  const sides = data.sides;

  $('title').textContent = data.title;
  const verdict = (s) => `<span class="badge ${s.verdict === 'PASS' ? 'pass' : 'fail'}">${esc(s.verdict)}</span>`;
  const kinds = { golden: 'A golden trace and the new run: ', schedules: 'The default schedule and a breaking one: ' };
  $('kind').innerHTML = (kinds[data.kind] || 'One scenario under each policy: ') +
    sides.map((s) => `<b>${esc(s.name)}</b> ${verdict(s)} <small>expectations ${s.expectations.passed} held, ${s.expectations.failed} failed</small>` +
      (s.viewer ? ` <a href="${esc(s.viewer)}">viewer</a>` : '') + (s.truncated ? ' <small>(decisions cut at the limit)</small>' : '')).join(' · ');
  $('note').textContent = data.note || '';

  const runTitle = (r) => `t=${r.time} ${r.step || '(no step)'}${r.run ? ` (run ${r.run + 1} at this t)` : ''}`;
  const decision = (side, d, parted) => {
    const link = sides[side].viewer ? `<a href="${esc(sides[side].viewer)}#seq=${d[0]}">#${d[0]}</a> ` : `<small>#${d[0]}</small> `;
    return `<div class="dec${parted ? ' parted' : ''}">${link}${esc(d[1])}${d[2] ? ` <small>${esc(d[2])}</small>` : ''}</div>`;
  };
  const cell = (r, side) => {
    const list = r.cells[side];
    if (!list || !list.length) return `<span class="none">${list ? 'no decision' : 'no such step run'}</span>`;
    return list.map((d, k) => decision(side, d, r.first !== undefined && k === r.first)).join('');
  };

  // The first difference, in words.
  const firstRow = data.rows.find((r) => r.first_row);
  if (firstRow) {
    $('first').innerHTML = `<b>First difference</b> at <a href="#run-${data.rows.indexOf(firstRow)}">${esc(runTitle(firstRow))}</a> ${esc(firstRow.label)}:<br>` +
      sides.map((s, k) => {
        const d = (firstRow.cells[k] || [])[firstRow.first];
        return `<span id="first-${k}"><b>${esc(s.name)}</b>: ${d ? esc(d[1]) + (d[2] ? ` <small>${esc(d[2])}</small>` : '') : '<span class="none">nothing</span>'}</span>`;
      }).join('<br>') + `<br><small>${data.differing} of ${data.total} step runs differ.</small>`;
  } else {
    $('first').classList.add('same');
    $('first').textContent = `No decision differs (${data.total} step runs compared).`;
  }
  if (data.expectations.length) {
    $('expectations').innerHTML = '<b>Expectations that differ</b><table class="socktable"><tr><th>expectation</th>' +
      sides.map((s) => `<th>${esc(s.name)}</th>`).join('') + '</tr>' +
      data.expectations.map(([p, rs]) => `<tr><td class="mono">${esc(p)}</td>${rs.map((x) => `<td><span class="badge ${x === 'pass' ? 'pass' : 'fail'}">${esc(x)}</span></td>`).join('')}</tr>`).join('') + '</table>';
  }

  $('diff-head').innerHTML = '<th class="run">step run</th>' + sides.map((s) => `<th>${esc(s.name)}</th>`).join('');
  function draw() {
    const only = $('only-differences').checked;
    let html = '', shown = 0;
    data.rows.forEach((r, i) => {
      if (only && r.first === undefined) return;
      shown++;
      html += `<tr id="run-${i}" class="${r.first !== undefined ? 'differs' : ''}${r.first_row ? ' first-row' : ''}" data-step="${esc(r.step)}">` +
        `<td class="run"><b>${esc(runTitle(r))}</b><br>${esc(r.label)}</td>` + sides.map((s, k) => `<td>${cell(r, k)}</td>`).join('') + '</tr>';
    });
    $('diff-body').innerHTML = html;
    $('count').textContent = `${shown} of ${data.total} step runs shown` + (data.left_out ? ` (${data.left_out} identical runs left out of this page)` : '');
    document.body.dataset.rows = String(shown);
  }
  $('only-differences').addEventListener('change', draw);
  draw();
  // Two schedules of one run are the same up to the first difference: the page opens there.
  if (data.kind === 'schedules' && firstRow) $(`run-${data.rows.indexOf(firstRow)}`).scrollIntoView({ block: 'center' });
  document.body.dataset.ready = '1';
})();
