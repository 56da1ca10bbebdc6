// Unit tests of the UI's pure logic (editor context, ranking, formatting) and a
// parse check of every module; no browser needed.
//
//   node --test test/*.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { analyze, rank } from '../src/js/autocomplete.js';
import { autoStep } from '../src/js/explorer.js';
import { hasIsolatedPoint } from '../src/js/graph.js';
import { formatDuration, parseDuration, parseSample, seriesName } from '../src/js/format.js';

// at analyzes text with the caret at "|".
function at(textWithCaret) {
  const caret = textWithCaret.indexOf('|');
  return analyze(textWithCaret.replace('|', ''), caret);
}

test('analyze', async (t) => {
  const cases = [
    ['empty', '|', null],
    ['metric prefix', 'u|', { kind: 'metric', prefix: 'u', from: 0, to: 1 }],
    ['metric inside function', 'rate(http_req|[5m])', { kind: 'metric', prefix: 'http_req', from: 5, to: 13 }],
    ['replaces rest of word', 'ht|tp_requests', { kind: 'metric', prefix: 'ht', from: 0, to: 13 }],
    ['duration is not a name', 'rate(up[5|m])', null],
    ['offset duration', 'up offset 5m|', null],
    ['label name after brace', 'up{|', { kind: 'labelName', metric: 'up', prefix: '', used: [] }],
    ['label name prefix', 'up{jo|', { kind: 'labelName', metric: 'up', prefix: 'jo', from: 3 }],
    ['second label name', 'up{job="a", in|}', { kind: 'labelName', metric: 'up', prefix: 'in', used: ['job'] }],
    ['label value opened', 'up{job="|', { kind: 'labelValue', metric: 'up', label: 'job', prefix: '', from: 8, to: 8 }],
    ['label value prefix', 'up{job=~"lo|', { kind: 'labelValue', label: 'job', prefix: 'lo', to: 11 }],
    ['label value closed', 'up{job="lo|"}', { kind: 'labelValue', label: 'job', prefix: 'lo', from: 8, to: 11 }],
    ['label value without quote', '{job=|', { kind: 'labelValue', metric: '', label: 'job', openQuote: true }],
    ['after closed value', 'up{job="x"|', null],
    ['grouping labels', 'sum by (jo|', { kind: 'labelName', metric: '', prefix: 'jo' }],
    ['string literal', 'label_replace(up, "ds|', null],
    ['comment', 'up # note|', null],
  ];
  for (const [name, input, want] of cases) {
    await t.test(name, () => {
      const got = at(input);
      if (want === null) {
        assert.equal(got, null);
        return;
      }
      assert.ok(got, `expected a context for ${input}`);
      for (const [k, v] of Object.entries(want)) assert.deepEqual(got[k], v, `${k} for ${input}`);
    });
  }
});

test('rank puts prefix matches before substring matches', () => {
  const items = ['node_up', 'up', 'uptime', 'other'].map((text) => ({ text }));
  assert.deepEqual(rank(items, 'up').map((i) => i.text), ['up', 'uptime', 'node_up']);
  assert.equal(rank(items, '', 2).length, 2);
});

test('durations', () => {
  assert.equal(parseDuration('1h30m'), 5400);
  assert.equal(parseDuration('250ms'), 0.25);
  assert.equal(parseDuration('15'), 15);
  assert.ok(Number.isNaN(parseDuration('5x')));
  assert.ok(Number.isNaN(parseDuration('m5')));
  assert.equal(formatDuration(5400), '1h30m');
  assert.equal(formatDuration(7 * 86400), '1w');
  assert.equal(autoStep(3600), 14);
  assert.equal(autoStep(60), 1);
});

test('samples and series names', () => {
  assert.equal(parseSample('+Inf'), Infinity);
  assert.equal(parseSample('-Inf'), -Infinity);
  assert.ok(Number.isNaN(parseSample('NaN')));
  assert.equal(seriesName({ __name__: 'up', job: 'a"b', instance: 'x' }), 'up{instance="x", job="a\\"b"}');
  assert.equal(seriesName({}), '{}');
});

test('lone samples are detected for drawing as points', () => {
  assert.equal(hasIsolatedPoint([null, 1, null]), true);
  assert.equal(hasIsolatedPoint([1, null, null]), true);
  assert.equal(hasIsolatedPoint([null, 1, 2]), false);
  assert.equal(hasIsolatedPoint([null, null]), false);
});

test('every module parses', () => {
  const dir = new URL('../src/js/', import.meta.url);
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.js'))) {
    execFileSync(process.execPath, ['--check', new URL(name, dir).pathname], { stdio: 'pipe' });
  }
});
