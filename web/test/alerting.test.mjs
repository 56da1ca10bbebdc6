// Unit tests of the alerting pages' pure logic: matchers, markdown, merging
// and grouping alerts, times, the silence form. No browser needed.
//
//   node --test test/*.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FormError, GROUP_BY_AM, GROUP_BY_NONE, MatcherError, amState, buildSilence, compileMatchers, formatMatcher,
  formatMatchers, fromApiMatcher, groupAlerts, matchersFromLabels, mergeAlerts, parseInline, parseMarkdown,
  parseMatcher, parseMatchers, relativeTime, renderMarkdown, roughDuration, safeUrl, silenceState, sortSilences,
  toApiMatcher, toDateTimeLocal,
} from '../src/js/alerting.js';
import { silenceHref } from '../src/js/alerts.js';
import { sortNotifications } from '../src/js/notifications.js';

test('parseMatchers reads braces, quotes, bare values and all operators', () => {
  assert.deepEqual(parseMatchers('{alertname="X", severity=~"crit|warn"}'), [
    { name: 'alertname', op: '=', value: 'X' },
    { name: 'severity', op: '=~', value: 'crit|warn' },
  ]);
  assert.deepEqual(parseMatchers('job!=api,instance!~"db-.*" , env = prod'), [
    { name: 'job', op: '!=', value: 'api' },
    { name: 'instance', op: '!~', value: 'db-.*' },
    { name: 'env', op: '=', value: 'prod' },
  ]);
  assert.deepEqual(parseMatchers(''), []);
  assert.deepEqual(parseMatchers('  {}  '), []);
  assert.deepEqual(parseMatchers('{a="1",}'), [{ name: 'a', op: '=', value: '1' }]);
  assert.deepEqual(parseMatchers('a=""'), [{ name: 'a', op: '=', value: '' }]);
  assert.deepEqual(parseMatchers('a='), [{ name: 'a', op: '=', value: '' }]);
  assert.deepEqual(parseMatchers("a='single \"quoted\"'"), [{ name: 'a', op: '=', value: 'single "quoted"' }]);
  assert.deepEqual(parseMatchers('a="x\\"y\\\\z\\n\\u00e9"'), [{ name: 'a', op: '=', value: 'x"y\\z\n\u00e9' }]);
  assert.deepEqual(parseMatchers('"service.name"="api"'), [{ name: 'service.name', op: '=', value: 'api' }]);
  assert.deepEqual(parseMatchers('a="b,c}"'), [{ name: 'a', op: '=', value: 'b,c}' }], 'separators inside quotes');
});

test('parseMatchers reports where the problem is', () => {
  const cases = [
    ['{a="b"', /missing closing "}"/],
    ['a', /expected an operator/],
    ['a~"b"', /expected an operator/],
    ['a="b" c="d"', /expected "," between matchers/],
    ['a="unterminated', /unterminated quoted string at character 3/],
    ['a="\\q"', /unknown escape/],
    ['=x', /expected a label name/],
    ['{a="b"} x', /unexpected text after "}"/],
    ['a=b"c', /unexpected quote/],
  ];
  for (const [input, re] of cases) {
    assert.throws(() => parseMatchers(input), (err) => err instanceof MatcherError && re.test(err.message), input);
  }
  assert.throws(() => parseMatcher('a="1", b="2"'), /expected one matcher, got 2/);
});

test('formatMatcher output parses back to the same matcher', () => {
  const matchers = [
    { name: 'alertname', op: '=', value: 'HighLatency' },
    { name: 'path', op: '=~', value: '/api/.*' },
    { name: 'msg', op: '!=', value: 'say "hi"\\ now\nplease, {ok}' },
    { name: 'service.name', op: '!~', value: 'x' },
    { name: 'empty', op: '=', value: '' },
    { name: 'uni', op: '=', value: 'naïve ☃' },
  ];
  for (const m of matchers) assert.deepEqual(parseMatcher(formatMatcher(m)), m, formatMatcher(m));
  assert.equal(formatMatcher(matchers[0]), 'alertname="HighLatency"');
  assert.equal(formatMatcher(matchers[3]), '"service.name"!~"x"');
  assert.deepEqual(parseMatchers(formatMatchers(matchers)), matchers);
});

test('compileMatchers matches like Alertmanager: anchored regexes, missing labels are empty', () => {
  const labels = { alertname: 'DiskFull', instance: 'db-1:9100', severity: 'warning' };
  const check = (text) => compileMatchers(parseMatchers(text))(labels);
  assert.equal(check(''), true);
  assert.equal(check('alertname="DiskFull"'), true);
  assert.equal(check('alertname="Disk"'), false);
  assert.equal(check('instance=~"db-.*"'), true);
  assert.equal(check('instance=~"db"'), false, 'regex is anchored');
  assert.equal(check('instance!~"web-.*"'), true);
  assert.equal(check('severity!="warning"'), false);
  assert.equal(check('team=""'), true, 'missing label equals the empty string');
  assert.equal(check('team=~".+"'), false);
  assert.equal(check('alertname="DiskFull", severity=~"crit.*"'), false, 'all matchers must match');
  assert.equal(compileMatchers(parseMatchers('msg=~"a.b"'))({ msg: 'a\nb' }), true, 'dot matches newline');
  assert.throws(() => compileMatchers(parseMatchers('a=~"("')), (err) => err instanceof MatcherError && /invalid regular expression for a/.test(err.message));
});

test('API matchers convert both ways', () => {
  const pairs = [
    [{ name: 'a', op: '=', value: '1' }, { name: 'a', value: '1', isRegex: false, isEqual: true }],
    [{ name: 'a', op: '!=', value: '1' }, { name: 'a', value: '1', isRegex: false, isEqual: false }],
    [{ name: 'a', op: '=~', value: '1.*' }, { name: 'a', value: '1.*', isRegex: true, isEqual: true }],
    [{ name: 'a', op: '!~', value: '1.*' }, { name: 'a', value: '1.*', isRegex: true, isEqual: false }],
  ];
  for (const [ui, api] of pairs) {
    assert.deepEqual(toApiMatcher(ui), api);
    assert.deepEqual(fromApiMatcher(api), ui);
  }
  assert.equal(fromApiMatcher({ name: 'a', value: 'b', isRegex: false }).op, '=', 'isEqual defaults to true');
  assert.deepEqual(matchersFromLabels({ severity: 'warning', alertname: 'X', instance: 'a' }).map((m) => m.name),
    ['alertname', 'instance', 'severity']);
});

test('silence links carry the alert labels as matchers', () => {
  const labels = { alertname: 'X', instance: 'a "b"', severity: 'warning' };
  const url = new URL(silenceHref(labels), 'http://localhost');
  assert.equal(url.pathname, '/silences');
  assert.equal(url.searchParams.get('new'), '1');
  const parsed = url.searchParams.getAll('matcher').map(parseMatcher);
  assert.deepEqual(parsed, matchersFromLabels(labels));
});

test('safeUrl allows only absolute http and https URLs', () => {
  assert.equal(safeUrl('https://example.com/runbook#x'), 'https://example.com/runbook#x');
  assert.equal(safeUrl(' http://example.com '), 'http://example.com/');
  for (const bad of ['javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'java\tscript:alert(1)', ' javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>', 'vbscript:x', '/relative', '//example.com/x', 'mailto:a@b.c', '', null]) {
    assert.equal(safeUrl(bad), null, String(bad));
  }
});

// text flattens inline nodes back to their visible text.
const text = (nodes) => nodes.map((n) => (n.children ? text(n.children) : n.text)).join('');

test('markdown: paragraphs, lists, code, bold and links', () => {
  const blocks = parseMarkdown([
    '# Disk full',
    'The disk on **`db-1`** is full.',
    'Continue the same paragraph.',
    '',
    '1. Check `df -h`',
    '2. Read [the guide](https://wiki.example.com/disk)',
    '   for details',
    '',
    '- one',
    '* two',
    '',
    '```',
    'rm -rf /var/tmp/*',
    '<b>not html</b>',
    '```',
    'See https://example.com/x.',
  ].join('\n'));
  assert.deepEqual(blocks.map((b) => b.type), ['heading', 'paragraph', 'list', 'list', 'codeblock', 'paragraph']);
  assert.equal(text(blocks[0].children), 'Disk full');
  assert.equal(text(blocks[1].children), 'The disk on db-1 is full. Continue the same paragraph.');
  assert.equal(blocks[1].children[1].type, 'strong');
  assert.deepEqual(blocks[1].children[1].children, [{ type: 'code', text: 'db-1' }]);
  assert.equal(blocks[2].ordered, true);
  assert.equal(blocks[2].items.length, 2);
  assert.deepEqual(blocks[2].items[0][1], { type: 'code', text: 'df -h' });
  const link = blocks[2].items[1].find((n) => n.type === 'link');
  assert.deepEqual(link, { type: 'link', href: 'https://wiki.example.com/disk', children: [{ type: 'text', text: 'the guide' }] });
  assert.equal(text(blocks[2].items[1]), 'Read the guide for details');
  assert.equal(blocks[3].ordered, false);
  assert.deepEqual(blocks[3].items.map(text), ['one', 'two']);
  assert.equal(blocks[4].text, 'rm -rf /var/tmp/*\n<b>not html</b>');
  const bare = blocks[5].children.find((n) => n.type === 'link');
  assert.equal(bare.href, 'https://example.com/x', 'trailing period is not part of a bare URL');
  assert.equal(text(blocks[5].children), 'See https://example.com/x.');
});

test('markdown never produces HTML or unsafe links', () => {
  const inline = parseInline('<script>alert(1)</script> <img src=x onerror=alert(1)>');
  assert.deepEqual(inline, [{ type: 'text', text: '<script>alert(1)</script> <img src=x onerror=alert(1)>' }]);
  for (const href of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'data:text/html;base64,PHNjcmlwdD4=', '/local', 'vbscript:x']) {
    const nodes = parseInline(`[click](${href}) me`);
    assert.ok(!nodes.some((n) => n.type === 'link'), href);
    assert.equal(text(nodes), 'click me', href);
  }
  const nested = parseInline('[**bold** [inner](https://a.example)](https://b.example)');
  assert.equal(nested.length, 1);
  assert.equal(nested[0].href, 'https://b.example/');
  assert.ok(!nested[0].children.some((n) => n.type === 'link'), 'no links inside link text');
  assert.deepEqual(parseInline('\\*\\*not bold\\*\\*'), [{ type: 'text', text: '**not bold**' }]);
  assert.deepEqual(parseInline('a ** b'), [{ type: 'text', text: 'a ** b' }]);
  assert.deepEqual(parseInline('`<code>`'), [{ type: 'code', text: '<code>' }]);
});

// A minimal DOM, enough for format.js's el() and renderMarkdown, to check
// what the renderer actually builds.
class FakeNode {}
class FakeText extends FakeNode {
  constructor(data) {
    super();
    this.nodeType = 3;
    this.data = data;
  }
}
class FakeElement extends FakeNode {
  constructor(tag) {
    super();
    this.nodeType = 1;
    this.tagName = tag.toUpperCase();
    this.attributes = {};
    this.childNodes = [];
    this.dataset = {};
  }
  set className(v) { this.attributes.class = v; }
  set textContent(v) { this.childNodes = [new FakeText(v)]; }
  setAttribute(k, v) { this.attributes[k] = v; }
  addEventListener() {}
  append(...nodes) {
    for (const n of nodes) this.childNodes.push(typeof n === 'string' ? new FakeText(n) : n);
  }
}

function walk(node, visit) {
  visit(node);
  for (const c of node.childNodes || []) walk(c, visit);
}

test('renderMarkdown builds only whitelisted elements and text nodes', () => {
  globalThis.Node = FakeNode;
  globalThis.document = { createElement: (t) => new FakeElement(t), createTextNode: (d) => new FakeText(d) };
  try {
    const root = renderMarkdown([
      'Hello <script>alert("x")</script> **<img src=x onerror=alert(1)>**',
      '',
      '- [ok](https://example.com/a?b=<c>) and [bad](javascript:alert(1))',
      '- `<iframe>`',
    ].join('\n'), { 'data-testid': 'md' });
    const tags = new Set();
    const hrefs = [];
    let shown = '';
    walk(root, (n) => {
      if (n.nodeType === 1) {
        tags.add(n.tagName);
        for (const k of Object.keys(n.attributes)) {
          assert.ok(['class', 'href', 'target', 'rel', 'data-testid'].includes(k), `attribute ${k}`);
        }
        if (n.attributes.href) hrefs.push(n.attributes.href);
      } else {
        shown += n.data;
      }
    });
    assert.deepEqual([...tags].sort(), ['A', 'CODE', 'DIV', 'LI', 'P', 'STRONG', 'UL']);
    assert.deepEqual(hrefs, ['https://example.com/a?b=%3Cc%3E']);
    assert.ok(shown.includes('<script>alert("x")</script>'), 'script tag shows as text');
    assert.ok(shown.includes('<img src=x onerror=alert(1)>'));
    assert.ok(shown.includes('<iframe>'));
    assert.ok(shown.includes('bad'), 'an unsafe link keeps its text');
    assert.equal(root.attributes.class, 'markdown');
  } finally {
    delete globalThis.Node;
    delete globalThis.document;
  }
});

const promAlerts = [
  { labels: { alertname: 'A', instance: '1', severity: 'warning' }, annotations: { summary: 's1' }, state: 'firing', activeAt: '2026-01-01T00:00:00Z', value: '1e+00' },
  { labels: { alertname: 'A', instance: '2', severity: 'warning' }, annotations: {}, state: 'firing', activeAt: '2026-01-01T00:00:00Z', value: '2e+00' },
  { labels: { alertname: 'B', severity: 'critical' }, annotations: {}, state: 'pending', activeAt: '2026-01-01T00:00:00Z', value: '3e+00' },
  { labels: { alertname: 'C' }, annotations: {}, state: 'firing', activeAt: '2026-01-01T00:00:00Z', value: '4e+00' },
];
const status = (state, silencedBy = [], inhibitedBy = []) => ({ state, silencedBy, inhibitedBy, mutedBy: [] });
const amGroups = [
  {
    labels: { alertname: 'A' }, routeLabels: {}, receiver: { name: 'team-slack' },
    alerts: [
      { labels: { alertname: 'A', instance: '1', severity: 'warning' }, annotations: {}, status: status('suppressed', ['sil-1']), receivers: [{ name: 'team-slack' }], fingerprint: 'f1', startsAt: '2026-01-01T00:00:00Z' },
      { labels: { alertname: 'A', instance: '2', severity: 'warning' }, annotations: {}, status: status('active'), receivers: [{ name: 'team-slack' }], fingerprint: 'f2', startsAt: '2026-01-01T00:00:00Z' },
    ],
  },
  {
    labels: { alertname: 'A' }, routeLabels: {}, receiver: { name: 'pager' },
    alerts: [
      { labels: { alertname: 'A', instance: '2', severity: 'warning' }, annotations: {}, status: status('active'), receivers: [{ name: 'pager' }], fingerprint: 'f2', startsAt: '2026-01-01T00:00:00Z' },
    ],
  },
  {
    labels: {}, routeLabels: {}, receiver: { name: 'default' },
    alerts: [
      // Alertmanager's copy of C carries an external label.
      { labels: { alertname: 'C', cluster: 'eu' }, annotations: {}, status: status('suppressed', [], ['f9']), receivers: [{ name: 'default' }], fingerprint: 'f3', startsAt: '2026-01-01T00:00:00Z' },
      { labels: { alertname: 'External' }, annotations: { summary: 'from elsewhere' }, status: status('active'), receivers: [{ name: 'default' }], fingerprint: 'f4', startsAt: '2026-01-02T00:00:00Z' },
    ],
  },
];

test('mergeAlerts joins Prometheus alerts with Alertmanager state', () => {
  const merged = mergeAlerts(promAlerts, amGroups);
  const by = Object.fromEntries(merged.map((a) => [`${a.labels.alertname}${a.labels.instance || ''}`, a]));
  assert.equal(merged.length, 5);
  assert.equal(by.A1.state, 'silenced');
  assert.deepEqual(by.A1.silencedBy, ['sil-1']);
  assert.equal(by.A1.value, '1e+00');
  assert.equal(by.A2.state, 'firing');
  assert.deepEqual(by.A2.receivers, ['team-slack', 'pager']);
  assert.equal(by.A2.groups.length, 2);
  assert.equal(by.B.state, 'pending');
  assert.deepEqual(by.B.receivers, []);
  assert.equal(by.C.state, 'inhibited', 'matched despite the external label');
  assert.equal(by.C.source, 'prometheus');
  assert.equal(by.External.source, 'alertmanager');
  assert.equal(by.External.value, null);
  assert.equal(by.External.activeAt, '2026-01-02T00:00:00Z');
  assert.equal(by.External.annotations.summary, 'from elsewhere');
  assert.equal(mergeAlerts(promAlerts, []).filter((a) => a.state === 'firing').length, 3, 'without Alertmanager, firing stays firing');
  assert.equal(amState({ state: 'suppressed', silencedBy: [], inhibitedBy: [], mutedBy: ['weekend'] }), 'muted');
  assert.equal(amState({ state: 'unprocessed', silencedBy: [], inhibitedBy: [] }), 'firing');
});

test('groupAlerts groups by alertname, by a label, by Alertmanager group or not at all', () => {
  const merged = mergeAlerts(promAlerts, amGroups);
  const byName = groupAlerts(merged);
  assert.deepEqual(byName.map((g) => g.title), ['A', 'B', 'C', 'External']);
  assert.deepEqual(byName[0].receivers, ['pager', 'team-slack']);
  assert.deepEqual(byName[0].counts, { firing: 1, silenced: 1 });
  assert.deepEqual(byName[0].alerts.map((a) => a.state), ['firing', 'silenced'], 'firing first');

  const bySeverity = groupAlerts(merged, 'severity');
  assert.deepEqual(bySeverity.map((g) => g.title), ['(no severity)', 'critical', 'warning']);
  assert.equal(bySeverity[0].alerts.length, 2);

  const byAM = groupAlerts(merged, GROUP_BY_AM);
  assert.deepEqual(byAM.map((g) => g.receivers && g.receivers[0]), ['default', 'pager', 'team-slack', null]);
  assert.equal(byAM[3].title, 'Not in Alertmanager');
  assert.equal(byAM[3].alerts[0].labels.alertname, 'B');
  assert.equal(byAM[2].title, '{alertname="A"}');
  assert.equal(byAM[2].alerts.length, 2);

  const all = groupAlerts(merged, GROUP_BY_NONE);
  assert.equal(all.length, 1);
  assert.equal(all[0].alerts.length, 5);
  assert.deepEqual(groupAlerts([]), []);
});

test('relative times', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  assert.equal(relativeTime('2026-01-01T11:59:15Z', now), '45s ago');
  assert.equal(relativeTime('2026-01-01T11:56:48Z', now), '3m 12s ago');
  assert.equal(relativeTime('2026-01-01T10:00:00Z', now), '2h ago');
  assert.equal(relativeTime('2025-12-28T08:30:00Z', now), '4d 3h ago');
  assert.equal(relativeTime('2026-01-01T14:00:00Z', now), 'in 2h');
  assert.equal(relativeTime('2026-01-01T12:00:00.400Z', now), 'just now');
  assert.equal(relativeTime('0001-01-01T00:00:00Z', now), 'never');
  assert.equal(relativeTime('', now), 'never');
  assert.equal(relativeTime('2026-01-01T11:59:59.123456789Z', now), 'just now', 'nanosecond timestamps parse');
  assert.equal(roughDuration(3605), '1h', 'only adjacent units');
  assert.equal(roughDuration(0.2), '<1s');
  assert.equal(roughDuration(400 * 86400), '1y 35d');
});

test('buildSilence makes the API body and reports bad fields', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const body = buildSilence({
    matchers: [{ name: 'alertname', op: '=', value: 'X' }, { name: '', op: '=', value: '' }, { name: ' job ', op: '!~', value: 'a|b' }],
    duration: '1h30m', createdBy: ' ann ', comment: ' maintenance ',
  }, now);
  assert.deepEqual(body, {
    matchers: [
      { name: 'alertname', value: 'X', isRegex: false, isEqual: true },
      { name: 'job', value: 'a|b', isRegex: true, isEqual: false },
    ],
    startsAt: '2026-01-01T12:00:00.000Z',
    endsAt: '2026-01-01T13:30:00.000Z',
    createdBy: 'ann',
    comment: 'maintenance',
  });
  const start = toDateTimeLocal(now + 3600e3);
  const end = toDateTimeLocal(now + 7200e3);
  const withEnd = buildSilence({ matchers: [{ name: 'a', op: '=', value: 'b' }], startsAt: start, endsAt: end, useEnd: true, duration: 'ignored' }, now);
  assert.equal(withEnd.startsAt, new Date(now + 3600e3).toISOString());
  assert.equal(withEnd.endsAt, new Date(now + 7200e3).toISOString());
  // An end before the start is sent as is: the API's message explains it.
  const backwards = buildSilence({ matchers: [{ name: 'a', op: '=', value: 'b' }], startsAt: end, endsAt: start, useEnd: true }, now);
  assert.ok(Date.parse(backwards.endsAt) < Date.parse(backwards.startsAt));

  const fails = (form, field, re) => assert.throws(() => buildSilence(form, now),
    (err) => err instanceof FormError && err.field === field && re.test(err.message));
  fails({ matchers: [], duration: '1h' }, 'matchers', /at least one matcher/);
  fails({ matchers: [{ name: '', op: '=', value: 'x' }], duration: '1h' }, 'matchers', /no label name/);
  fails({ matchers: [{ name: 'a', op: '==', value: 'x' }], duration: '1h' }, 'matchers', /unknown operator/);
  fails({ matchers: [{ name: 'a', op: '=', value: 'x' }], duration: '2 hours' }, 'duration', /invalid duration/);
  fails({ matchers: [{ name: 'a', op: '=', value: 'x' }], duration: '0s' }, 'duration', /invalid duration/);
  fails({ matchers: [{ name: 'a', op: '=', value: 'x' }], useEnd: true, endsAt: '' }, 'endsAt', /end time/);
  fails({ matchers: [{ name: 'a', op: '=', value: 'x' }], startsAt: 'soon', duration: '1h' }, 'startsAt', /invalid start/);
});

test('silences sort by state and time', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const s = (id, startsAt, endsAt, state) => ({ id, startsAt, endsAt, ...(state ? { status: { state } } : {}) });
  const by = sortSilences([
    s('a2', '2026-01-01T11:00:00Z', '2026-01-01T15:00:00Z', 'active'),
    s('a1', '2026-01-01T11:00:00Z', '2026-01-01T13:00:00Z', 'active'),
    s('e1', '2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z', 'expired'),
    s('e2', '2026-01-01T08:00:00Z', '2026-01-01T10:00:00Z', 'expired'),
    s('p1', '2026-01-01T13:00:00Z', '2026-01-01T14:00:00Z'),
  ], now);
  assert.deepEqual(by.active.map((x) => x.id), ['a1', 'a2']);
  assert.deepEqual(by.expired.map((x) => x.id), ['e2', 'e1']);
  assert.deepEqual(by.pending.map((x) => x.id), ['p1']);
  assert.equal(silenceState(s('x', '2026-01-01T08:00:00Z', '2026-01-01T09:00:00Z'), now), 'expired');
  assert.equal(silenceState(s('x', '2026-01-01T08:00:00Z', '2026-01-01T19:00:00Z'), now), 'active');
});

test('notifications sort newest first', () => {
  const recs = [
    { time: '2026-01-01T12:00:00.5Z', receiver: 'a' },
    { time: '2026-01-01T12:00:01.000000001Z', receiver: 'b' },
    { time: '2026-01-01T11:00:00Z', receiver: 'c' },
    { time: '2026-01-01T12:00:00.5Z', receiver: 'd' },
  ];
  assert.deepEqual(sortNotifications(recs).map((r) => r.receiver), ['b', 'a', 'd', 'c']);
});

test('markdown bold needs proper delimiters', () => {
  assert.deepEqual(parseInline('window.__x = 1 and a.__y'), [{ type: 'text', text: 'window.__x = 1 and a.__y' }]);
  assert.deepEqual(parseInline('snake__case__name'), [{ type: 'text', text: 'snake__case__name' }]);
  assert.deepEqual(parseInline('__bold__ and **also**'), [
    { type: 'strong', children: [{ type: 'text', text: 'bold' }] },
    { type: 'text', text: ' and ' },
    { type: 'strong', children: [{ type: 'text', text: 'also' }] },
  ]);
  assert.deepEqual(parseInline('2 ** 3 ** 4'), [{ type: 'text', text: '2 ** 3 ** 4' }]);
});
