// Unit tests of the log explorer's LogQL logic (web/src/js/logql.js): query
// structure, filters from clicked fields, the volume query, autocomplete
// context and the flattening of stream results. No browser needed.
//
//   node --test test/*.test.mjs

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  addParser, lineFields,
  addLabelFilter, addNs, addStreamMatcher, analyzeLogQL, compareNs, entriesFromStreams, mask, nsFromMs,
  parseLogQuery, stackColumns, streamSelector, traceIdOf, volumeColumns, volumeQuery, volumeStep,
} from '../src/js/logql.js';

// at analyzes text with the caret at "^".
function at(textWithCaret) {
  const caret = textWithCaret.indexOf('^');
  return analyzeLogQL(textWithCaret.replace('^', ''), caret);
}

test('mask hides strings and comments but keeps offsets', () => {
  const m = mask('{a="}|#"} # c |\n|= `x|y`');
  assert.equal(m.masked.length, '{a="}|#"} # c |\n|= `x|y`'.length);
  assert.equal(m.masked, '{a="xxx"}      \n|= `xxx`');
  assert.equal(mask('{a="x\\"').quote, '"');
  assert.equal(mask('{a="b"} # note').comment, true);
});

test('parseLogQuery splits the selector and the stages', () => {
  const q = parseLogQuery('{app="x", env=~"a|b"} |= "a|b" != "c" | level="warn" | json | x!="y" != "z"');
  assert.equal(q.selector, '{app="x", env=~"a|b"}');
  assert.deepEqual(q.stages.map((s) => [s.kind, s.text]), [
    ['line', '|= "a|b"'],
    ['line', '!= "c"'],
    ['label', '| level="warn"'],
    ['json', '| json'],
    ['label', '| x!="y"'],
    ['line', '!= "z"'],
  ]);
  assert.deepEqual(parseLogQuery('{a="b"} | json != "q"').stages.map((s) => s.kind), ['json', 'line']);
  assert.deepEqual(parseLogQuery('{a="b"} | a != "y"').stages.map((s) => s.kind), ['label']);
  assert.deepEqual(parseLogQuery('{a="b"}').stages, []);
  assert.equal(parseLogQuery('sum(rate({a="b"}[1m]))'), null);
  assert.equal(parseLogQuery('{a="b"'), null);
  assert.equal(parseLogQuery(''), null);
});

test('volumeQuery keeps the selector and the leading filters', () => {
  assert.deepEqual(volumeQuery('{app="x"}', '10s'),
    { query: 'sum by (detected_level) (count_over_time({app="x"} [10s]))', partial: false });
  assert.deepEqual(volumeQuery('{app="x"} |= "err" # errors only\n | detected_level="error" | json | a="b"', '1m'),
    { query: 'sum by (detected_level) (count_over_time({app="x"} |= "err" | detected_level="error" [1m]))', partial: true });
  assert.equal(volumeQuery('count_over_time({a="b"}[1m])', '1m'), null);
});

test('field filters go into the selector or the pipeline', () => {
  assert.equal(addStreamMatcher('{app="x"} |= "a"', 'pod', 'b'), '{app="x", pod="b"} |= "a"');
  assert.equal(addStreamMatcher('{app="x",} | json', 'pod', 'b'), '{app="x", pod="b"} | json');
  assert.equal(addStreamMatcher('{app="x", pod="b"}', 'pod', 'b'), '{app="x", pod="b"}', 'no duplicate');
  assert.equal(addStreamMatcher('{app="x"}', 'msg', 'say "hi"\\n'), '{app="x", msg="say \\"hi\\"\\\\n"}');
  assert.equal(addStreamMatcher('rate({a="b"}[1m])', 'pod', 'b'), null);
  assert.equal(addStreamMatcher('{a="b"}', 'service.name', 'x'), null);

  assert.equal(addLabelFilter('{app="x"}', 'level', 'warn'), '{app="x"} | level="warn"');
  assert.equal(addLabelFilter('{app="x"} | level="warn"  ', 'level', 'warn'), '{app="x"} | level="warn"  ');
  assert.equal(addLabelFilter('{app="x"} # hi', 'a', '1'), '{app="x"} # hi\n| a="1"');
  assert.equal(addLabelFilter('{app="x"} | json', 'a', '<b>'), '{app="x"} | json | a="<b>"');
  assert.equal(addLabelFilter('sum(count_over_time({a="b"}[1m]))', 'a', '1'), null);
});

test('streamSelector writes exact matchers in name order', () => {
  assert.equal(streamSelector({ pod: 'a', app: 'x"y' }), '{app="x\\"y", pod="a"}');
  assert.equal(streamSelector({}), '{}');
});

test('nanosecond timestamps', () => {
  assert.equal(nsFromMs(1700000000123), '1700000000123000000');
  assert.equal(addNs('1700000000123000000', 1), '1700000000123000001');
  assert.equal(addNs('1700000000123000000', -21600000000000n), '1699978400123000000');
  assert.ok(compareNs('999', '1000') < 0);
  assert.ok(compareNs('1700000000123000001', '1700000000123000000') > 0);
  assert.equal(compareNs('5', '5'), 0);
});

test('entriesFromStreams flattens, sorts and categorises', () => {
  const result = [
    { stream: { app: 'a' }, values: [
      ['1700000000000000002', 'two', { structuredMetadata: { detected_level: 'warn', trace_id: 'abc123' } }],
      ['1700000000000000000', 'zero'],
    ] },
    { stream: { app: 'b' }, values: [['1700000000000000001', 'one', { parsed: { detected_level: 'error', x: '1' } }]] },
  ];
  const newest = entriesFromStreams(result);
  assert.deepEqual(newest.map((e) => e.line), ['two', 'one', 'zero']);
  assert.deepEqual(newest.map((e) => e.level), ['warn', 'error', 'unknown']);
  assert.equal(newest[0].ms, 1700000000000.000002);
  assert.equal(traceIdOf(newest[0]), 'abc123');
  assert.equal(traceIdOf(newest[1]), '');
  assert.deepEqual(entriesFromStreams(result, { direction: 'forward' }).map((e) => e.line), ['zero', 'one', 'two']);

  // Tail results carry every label in stream.
  const tailed = entriesFromStreams([{ stream: { app: 'a', detected_level: 'info', user: 'u' }, values: [['1', 'l']] }],
    { streamNames: new Set(['app']) });
  assert.deepEqual(tailed[0].stream, { app: 'a' });
  assert.deepEqual(tailed[0].meta, { detected_level: 'info', user: 'u' });
  assert.equal(tailed[0].level, 'info');
});

test('volume columns and stacking', () => {
  const result = [
    { metric: { detected_level: 'info' }, values: [[110, '3'], [130, '1']] },
    { metric: { detected_level: 'error' }, values: [[110, '2']] },
    { metric: { detected_level: 'custom' }, values: [[120, '5']] },
    { metric: {}, values: [[120, '1']] },
  ];
  const { xs, levels, counts } = volumeColumns(result, 110, 10, 3);
  assert.deepEqual(xs, [110, 120, 130]);
  assert.deepEqual(levels, ['error', 'info', 'unknown', 'custom']);
  assert.deepEqual(counts, [[2, null, null], [3, null, 1], [null, 1, null], [null, 5, null]]);
  assert.deepEqual(stackColumns(counts), [[2, null, null], [5, null, 1], [null, 1, null], [null, 6, null]]);
  assert.equal(volumeStep(300), 5);
  assert.equal(volumeStep(3600), 30);
  assert.equal(volumeStep(7 * 86400), 7200);
});

test('analyzeLogQL', async (t) => {
  const cases = [
    ['empty', '^', null],
    ['label name', '{^', { kind: 'labelName', prefix: '', used: [] }],
    ['second label name', '{app="a", po^', { kind: 'labelName', prefix: 'po', used: ['app'], from: 10 }],
    ['label value opened', '{app=^', { kind: 'labelValue', label: 'app', openQuote: true }],
    ['label value prefix', '{app="ap^"}', { kind: 'labelValue', label: 'app', prefix: 'ap', from: 6, to: 9 }],
    ['field after pipe', '{app="x"} | ^', { kind: 'field', stage: true, selector: '{app="x"}', prefix: '' }],
    ['field prefix', '{app="x"} | json | le^', { kind: 'field', stage: true, prefix: 'le', from: 19 }],
    ['line filter string', '{app="x"} |= "er^', null],
    ['filter value', '{app="x"} | detected_level="^', { kind: 'labelValue', filter: true, label: 'detected_level', prefix: '' }],
    ['filter value unquoted', '{app="x"} | level=^', { kind: 'labelValue', filter: true, label: 'level', openQuote: true }],
    ['next filter', '{app="x"} | a="1" and ^', { kind: 'field', stage: false, prefix: '' }],
    ['after a value', '{app="x"} | a="1" ^', null],
    ['line_format', '{app="x"} | line_format "{{.a}}" ^', null],
    ['function', 'cou^', { kind: 'function', prefix: 'cou', from: 0 }],
    ['pipeline in a metric query', 'sum(count_over_time({a="b"} | ^', { kind: 'field', selector: '{a="b"}' }],
    ['range', 'count_over_time({a="b"} [5^', null],
    ['grouping', 'sum by (lev^', { kind: 'field', grouping: true, prefix: 'lev' }],
    ['comment', '{a="b"} # x^', null],
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

test('lineFields detects JSON and logfmt fields as LogQL parsers name them', () => {
  assert.deepEqual(lineFields('{"level":"error","http":{"status":502},"tags":["a"],"n":null,"user-id":"u1"}'),
    { parser: 'json', fields: { level: 'error', http_status: '502', tags: '["a"]', user_id: 'u1' } });
  assert.deepEqual(lineFields('level=info msg="cache refreshed" entries=120'),
    { parser: 'logfmt', fields: { level: 'info', msg: 'cache refreshed', entries: '120' } });
  assert.deepEqual(lineFields('{"broken'), { parser: '', fields: {} });
  assert.deepEqual(lineFields('plain text line'), { parser: '', fields: {} });
});

test('addParser adds a parser stage once', () => {
  assert.equal(addParser('{app="a"}', 'json'), '{app="a"} | json');
  assert.equal(addParser('{app="a"} | logfmt', 'json'), '{app="a"} | logfmt');
  assert.equal(addParser('{app="a"} |= "x"', 'logfmt'), '{app="a"} |= "x" | logfmt');
});
