// LogQL helpers of the log explorer that need no DOM: the structure of a
// log query (stream selector and pipeline stages), the filters added by
// clicking a field, the level-volume query, the editor's autocomplete
// context, and turning Loki's stream results into a flat list of entries.
// Unit-tested in web/test/logs.test.mjs.

/** LEVEL_LABEL is the label that carries a record's normalised level. */
export const LEVEL_LABEL = 'detected_level';

/** LEVELS are the normalised levels, most severe first (the volume stacks them bottom up). */
export const LEVELS = ['critical', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'];

// Attribute names a trace ID is read from, as Lookout's pipeline does.
const TRACE_ID_NAMES = ['trace_id', 'traceId', 'traceID', 'traceid'];
const TRACE_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;

const LABEL_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Stages that take no argument; a line filter such as != may follow them
// directly ("| json != "x""), while after a label name != compares.
const BARE_STAGES = new Set(['json', 'logfmt', 'unpack', 'decolorize', '--strict', '--keep-empty']);

// Pipeline stages that parse or rewrite lines and labels.
export const STAGE_KEYWORDS = [
  'json', 'logfmt', 'regexp', 'pattern', 'unpack', 'line_format', 'label_format', 'decolorize', 'drop', 'keep', 'unwrap',
];
const STAGE_SET = new Set(STAGE_KEYWORDS);

/** LOGQL_FUNCTIONS are the range and vector aggregations offered at the top level of a query. */
export const LOGQL_FUNCTIONS = [
  'count_over_time', 'rate', 'bytes_over_time', 'bytes_rate', 'sum_over_time', 'avg_over_time', 'min_over_time',
  'max_over_time', 'stddev_over_time', 'stdvar_over_time', 'quantile_over_time', 'first_over_time',
  'last_over_time', 'absent_over_time', 'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stdvar', 'topk',
  'bottomk', 'sort', 'sort_desc', 'vector', 'label_replace',
];
const LOGQL_KEYWORDS = ['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless'];

/** isLabelName reports whether s can be written as a label name in LogQL. */
export function isLabelName(s) {
  return LABEL_NAME_RE.test(s);
}

/** quote writes a LogQL string literal (Go's double-quoted syntax, which JSON's is a subset of). */
export function quote(value) {
  return JSON.stringify(String(value));
}

/**
 * mask returns text with the contents of string literals replaced by "x"
 * and comments by spaces, so that offsets stay the same and structure can
 * be found with plain searches. quote is the open string's quote character
 * when text ends inside a string (quoteStart its offset), comment is true
 * when it ends inside a comment.
 */
export function mask(text) {
  let out = '';
  let quoteChar = null;
  let quoteStart = -1;
  let comment = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoteChar) {
      if (ch === '\\' && quoteChar !== '`' && i + 1 < text.length) {
        out += 'xx';
        i++;
      } else if (ch === quoteChar) {
        quoteChar = null;
        out += ch;
      } else {
        out += ch === '\n' ? '\n' : 'x';
      }
      continue;
    }
    if (ch === '#') {
      const nl = text.indexOf('\n', i);
      const end = nl < 0 ? text.length : nl;
      out += ' '.repeat(end - i);
      if (nl < 0) comment = true;
      i = end - 1;
      continue;
    }
    if (ch === '"' || ch === '`') {
      quoteChar = ch;
      quoteStart = i;
    }
    out += ch;
  }
  return { masked: out, quote: quoteChar, quoteStart: quoteChar ? quoteStart : -1, comment };
}

// withoutComments blanks the comments of text, keeping strings.
function withoutComments(text, masked) {
  let out = '';
  for (let i = 0; i < text.length; i++) out += masked[i] === ' ' && text[i] !== ' ' && text[i] !== '\t' ? ' ' : text[i];
  return out;
}

/**
 * parseLogQuery splits a log query into its stream selector and pipeline
 * stages. It returns null for metric queries and for text whose selector is
 * not closed. Each stage is {text, kind, from, to}: kind is "line" for line
 * filters (|= != |~ !~ |> !>), "label" for label filters, and the keyword
 * (json, logfmt, line_format, …) for other stages.
 */
export function parseLogQuery(text) {
  const { masked } = mask(text);
  const open = masked.search(/\S/);
  if (open < 0 || masked[open] !== '{') return null;
  const close = masked.indexOf('}', open);
  if (close < 0) return null;
  const clean = withoutComments(text, masked);
  const starts = [];
  for (let i = close + 1; i < masked.length; i++) {
    const ch = masked[i];
    if (ch === '|') {
      starts.push(i);
      if ('=~>'.includes(masked[i + 1])) i++;
    } else if (ch === '!' && '=~>'.includes(masked[i + 1])) {
      const before = masked.slice(0, i).trimEnd();
      const prev = before[before.length - 1];
      const word = (before.match(/(\S+)$/) || [])[1] || '';
      // After a label name, != compares; after a string, a selector or a
      // bare stage, it starts a line filter.
      if (prev === '"' || prev === '`' || prev === '}' || prev === ')' || BARE_STAGES.has(word)) starts.push(i);
      i++;
    } else if (!/\s/.test(ch) && starts.length === 0) {
      return null; // something other than a pipeline follows the selector
    }
  }
  const stages = starts.map((from, k) => {
    const to = k + 1 < starts.length ? starts[k + 1] : masked.length;
    const m = masked.slice(from, to);
    let kind;
    if (/^[|!][=~>]/.test(m)) kind = 'line';
    else {
      const word = (m.slice(1).match(/^\s*([A-Za-z_][A-Za-z0-9_]*)/) || [])[1] || '';
      kind = STAGE_SET.has(word) ? word : 'label';
    }
    return { text: clean.slice(from, to).trim(), kind, from, to };
  });
  return {
    selector: clean.slice(open, close + 1).trim(),
    selectorFrom: open,
    selectorTo: close + 1,
    stages,
  };
}

/** isLogQuery reports whether text is a log query (a selector with an optional pipeline). */
export function isLogQuery(text) {
  return parseLogQuery(text) !== null;
}

/**
 * volumeQuery builds the query behind the volume histogram: lines per level
 * per step, counting what the selector and the leading line and label
 * filters keep. Those are pushed down into the store; a parser or formatter
 * would make every bucket a pipeline run, so the stages from the first one
 * on are left out and partial is true. Returns null for metric queries.
 */
export function volumeQuery(text, step) {
  const q = parseLogQuery(text);
  if (!q) return null;
  const kept = [];
  let partial = false;
  for (const s of q.stages) {
    if (s.kind !== 'line' && s.kind !== 'label') {
      partial = true;
      break;
    }
    kept.push(s.text.replace(/\s+/g, ' '));
  }
  const selector = [q.selector.replace(/\s+/g, ' '), ...kept].join(' ');
  return { query: `sum by (${LEVEL_LABEL}) (count_over_time(${selector} [${step}]))`, partial };
}

function escapeRegExp(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * addStreamMatcher adds name="value" to the stream selector of a log query.
 * It returns text unchanged when the matcher is there already, and null for
 * metric queries or an invalid name.
 */
export function addStreamMatcher(text, name, value) {
  const q = parseLogQuery(text);
  if (!q || !isLabelName(name)) return null;
  const matcher = `${name}=${quote(value)}`;
  const closeAt = q.selectorTo - 1;
  const inner = text.slice(q.selectorFrom + 1, closeAt);
  const exists = new RegExp(`(^|[\\s,])${escapeRegExp(name)}\\s*=\\s*${escapeRegExp(quote(value))}\\s*(,|$)`);
  if (exists.test(inner)) return text;
  const trimmed = inner.trimEnd();
  let sep = '';
  if (trimmed.trim() !== '') sep = trimmed.endsWith(',') ? ' ' : ', ';
  return text.slice(0, q.selectorFrom + 1) + trimmed + sep + matcher + text.slice(closeAt);
}

/**
 * addLabelFilter appends | name="value" to a log query, or returns text
 * unchanged when the query ends with that filter already. Returns null for
 * metric queries or an invalid name.
 */
export function addLabelFilter(text, name, value) {
  const q = parseLogQuery(text);
  if (!q || !isLabelName(name)) return null;
  const stage = `| ${name}=${quote(value)}`;
  const last = q.stages[q.stages.length - 1];
  if (last && last.text.replace(/\s+/g, '') === stage.replace(/\s+/g, '')) return text;
  const base = text.replace(/\s+$/, '');
  return `${base}${mask(base).comment ? '\n' : ' '}${stage}`;
}

/** streamSelector writes a selector that matches exactly the given stream labels. */
export function streamSelector(labels) {
  const pairs = Object.entries(labels || {})
    .filter(([k]) => isLabelName(k))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${quote(v)}`);
  return `{${pairs.join(', ')}}`;
}

/** compareNs orders two nanosecond timestamps written as decimal strings. */
export function compareNs(a, b) {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** nsFromMs writes a time in milliseconds as integer nanoseconds, the precision Loki's API takes. */
export function nsFromMs(ms) {
  return (BigInt(Math.round(ms)) * 1000000n).toString();
}

/** addNs adds a signed number of nanoseconds to a nanosecond timestamp string. */
export function addNs(ns, delta) {
  return (BigInt(ns) + BigInt(delta)).toString();
}

/** levelOf returns an entry's level from its labels, or "unknown". */
export function levelOf(...labelSets) {
  for (const ls of labelSets) {
    if (ls && ls[LEVEL_LABEL]) return ls[LEVEL_LABEL];
  }
  return 'unknown';
}

/**
 * lineFields finds the fields of a JSON or logfmt line, as Grafana's detected
 * fields do, for entries the query did not parse: {parser, fields}, with
 * nested JSON keys joined by "_" as LogQL's json parser names them. An
 * unparsable line gives {parser: '', fields: {}}.
 */
export function lineFields(line) {
  const t = (line || '').trim();
  if (t.startsWith('{')) {
    let obj;
    try {
      obj = JSON.parse(t);
    } catch {
      return { parser: '', fields: {} };
    }
    const fields = {};
    const walk = (prefix, o) => {
      for (const [k, v] of Object.entries(o)) {
        const name = (prefix + k).replace(/[^A-Za-z0-9_]/g, '_');
        if (v && typeof v === 'object' && !Array.isArray(v)) walk(`${name}_`, v);
        else if (v !== null) fields[name] = typeof v === 'string' ? v : JSON.stringify(v);
      }
    };
    if (obj && typeof obj === 'object' && !Array.isArray(obj)) walk('', obj);
    return { parser: 'json', fields };
  }
  const fields = {};
  for (const m of t.matchAll(/([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
    const raw = m[2];
    fields[m[1].replace(/[^A-Za-z0-9_]/g, '_')] = raw.startsWith('"') ? raw.slice(1, -1).replace(/\\(.)/g, '$1') : raw;
  }
  return Object.keys(fields).length ? { parser: 'logfmt', fields } : { parser: '', fields: {} };
}

/** addParser appends "| json" or "| logfmt" unless the query already has a parser stage. */
export function addParser(text, parser) {
  const q = parseLogQuery(text);
  if (!q || !parser) return q ? text : null;
  if (q.stages.some((st) => /^\|\s*(json|logfmt|regexp|pattern|unpack)\b/.test(st.text))) return text;
  const base = text.replace(/\s+$/, '');
  return `${base}${mask(base).comment ? '\n' : ' '}| ${parser}`;
}

/** traceIdOf returns the trace ID in an entry's structured metadata, parsed labels or line fields, or "". */
export function traceIdOf(entry) {
  for (const ls of [entry.meta, entry.parsed, entry.stream, entry.lineFields]) {
    if (!ls) continue;
    for (const name of TRACE_ID_NAMES) {
      const v = ls[name];
      if (v && TRACE_ID_RE.test(v)) return v;
    }
  }
  return '';
}

const EMPTY = Object.freeze({});

/**
 * entriesFromStreams flattens a "streams" result into entries
 * {ns, ms, line, stream, meta, parsed, level}, newest first for "backward"
 * and oldest first for "forward". With categorize-labels, stream holds the
 * stream labels and the third value element the structured metadata and
 * parsed labels. Without it (live tail), every label is in stream; the
 * names in streamNames stay stream labels and the others become metadata.
 */
export function entriesFromStreams(result, { direction = 'backward', streamNames = null } = {}) {
  const out = [];
  for (const s of result || []) {
    let stream = s.stream || EMPTY;
    let extra = null;
    if (streamNames) {
      const own = {};
      for (const [k, v] of Object.entries(stream)) {
        if (streamNames.has(k)) own[k] = v;
        else (extra || (extra = {}))[k] = v;
      }
      stream = own;
    }
    for (const v of s.values || []) {
      const cat = v[2] || EMPTY;
      const meta = extra || cat.structuredMetadata || EMPTY;
      const parsed = cat.parsed || EMPTY;
      const ns = String(v[0]);
      out.push({
        ns,
        ms: Number(ns.slice(0, -6) || '0') + Number(`0.${ns.slice(-6).padStart(6, '0')}`),
        line: String(v[1]),
        stream,
        meta,
        parsed,
        level: levelOf(meta, parsed, stream),
      });
    }
  }
  const sign = direction === 'forward' ? 1 : -1;
  out.sort((a, b) => sign * compareNs(a.ns, b.ns));
  return out;
}

/**
 * volumeColumns turns the volume query's matrix into uPlot columns: bucket
 * times and one count column per level (in LEVELS order, then any other
 * level names), with null for empty buckets. Points are at start + k*step
 * for k = 0..n-1.
 */
export function volumeColumns(result, start, step, n) {
  const byLevel = new Map();
  for (const series of result || []) {
    const level = (series.metric && series.metric[LEVEL_LABEL]) || 'unknown';
    let ys = byLevel.get(level);
    if (!ys) {
      ys = new Array(n).fill(null);
      byLevel.set(level, ys);
    }
    for (const [t, v] of series.values || []) {
      const i = Math.round((Number(t) - start) / step);
      const y = Number(v);
      if (i >= 0 && i < n && Number.isFinite(y) && y > 0) ys[i] = (ys[i] || 0) + y;
    }
  }
  const levels = [...byLevel.keys()].sort((a, b) => {
    const ia = LEVELS.indexOf(a);
    const ib = LEVELS.indexOf(b);
    if (ia >= 0 && ib >= 0) return ia - ib;
    if (ia >= 0 || ib >= 0) return ia >= 0 ? -1 : 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
  const xs = new Array(n);
  for (let i = 0; i < n; i++) xs[i] = start + i * step;
  return { xs, levels, counts: levels.map((l) => byLevel.get(l)) };
}

/** stackColumns returns running totals of counts (bottom series first) for drawing stacked bars. */
export function stackColumns(counts) {
  const n = counts.length ? counts[0].length : 0;
  const sums = new Array(n).fill(0);
  return counts.map((ys) => ys.map((y, i) => {
    if (y === null) return null;
    sums[i] += y;
    return sums[i];
  }));
}

/** volumeStep picks a readable bucket width giving at most about 120 bars for a range in seconds. */
export function volumeStep(rangeSeconds) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  const want = rangeSeconds / 120;
  return steps.find((s) => s >= want) || Math.ceil(want / 86400) * 86400;
}

const identTail = /[A-Za-z0-9_]*/y;

function findQuoteEnd(text, pos, q) {
  for (let i = pos; i < text.length; i++) {
    if (text[i] === '\\' && q !== '`') i++;
    else if (text[i] === q) return i;
    else if (text[i] === '\n') return -1;
  }
  return -1;
}

/** firstSelector returns the first complete stream selector in text, or "". */
export function firstSelector(text) {
  const { masked } = mask(text);
  const m = masked.match(/\{[^{}]*\}/);
  return m ? text.slice(m.index, m.index + m[0].length) : '';
}

/**
 * analyzeLogQL works out what to suggest at the caret. It returns null or
 * {kind, prefix, from, to, ...} where from/to is the text a suggestion
 * replaces. Kinds: labelName and labelValue inside a selector (labelValue
 * with filter: true after "| name=" in a pipeline), field after "|" or
 * "and"/"or"/"," in a label filter (stage: true when parser keywords fit
 * too), function at the top level of a metric query.
 */
export function analyzeLogQL(text, caret) {
  const before = text.slice(0, caret);
  const m = mask(before);
  if (m.comment) return null;
  const { masked } = m;
  identTail.lastIndex = caret;
  const after = identTail.exec(text);
  const to = caret + (after ? after[0].length : 0);
  const selector = firstSelector(text);

  let open = -1;
  const opens = [];
  for (let i = 0; i < masked.length; i++) {
    if (masked[i] === '{') opens.push(i);
    else if (masked[i] === '}') opens.pop();
  }
  if (opens.length > 0) open = opens[opens.length - 1];

  const opRe = /([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*$/;
  if (open >= 0) {
    const inside = masked.slice(open + 1);
    if (m.quote) {
      const op = masked.slice(0, m.quoteStart).match(opRe);
      if (!op) return null;
      const close = findQuoteEnd(text, caret, m.quote);
      return {
        kind: 'labelValue', label: op[1], prefix: before.slice(m.quoteStart + 1),
        from: m.quoteStart + 1, to: close < 0 ? caret : close + 1, quote: m.quote,
      };
    }
    const used = [...inside.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((x) => x[1]);
    const eq = inside.match(opRe);
    if (eq) return { kind: 'labelValue', label: eq[1], prefix: '', from: caret, to: caret, quote: '"', openQuote: true };
    const name = inside.match(/(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)?$/);
    if (!name) return null;
    const prefix = name[1] || '';
    return { kind: 'labelName', used, prefix, from: caret - prefix.length, to };
  }

  // After a selector and before any range ([5m]), the caret is in a
  // pipeline; the stage it is in starts at the last "|".
  const lastClose = masked.lastIndexOf('}');
  const tail = lastClose >= 0 ? masked.slice(lastClose + 1) : null;
  if (tail !== null && !tail.includes('[')) {
    const pipeAt = masked.lastIndexOf('|');
    if (pipeAt <= lastClose) return null;
    const stage = masked.slice(pipeAt);
    const first = (stage.match(/^\|\s*\(?\s*([A-Za-z_][A-Za-z0-9_]*)/) || [])[1] || '';
    const labelStage = !STAGE_SET.has(first) &&
      /^\|\s*\(?\s*[A-Za-z_][A-Za-z0-9_]*\s*(?:=~|!~|!=|==|=|>=|<=|>|<)/.test(stage);
    if (m.quote) {
      if (!labelStage) return null;
      const op = masked.slice(0, m.quoteStart).match(opRe);
      if (!op) return null;
      const close = findQuoteEnd(text, caret, m.quote);
      return {
        kind: 'labelValue', filter: true, label: op[1], prefix: before.slice(m.quoteStart + 1),
        from: m.quoteStart + 1, to: close < 0 ? caret : close + 1, quote: m.quote, selector,
      };
    }
    const pipe = stage.match(/^\|\s*([A-Za-z_][A-Za-z0-9_]*)?$/);
    if (pipe) {
      const prefix = pipe[1] || '';
      return { kind: 'field', stage: true, selector, prefix, from: caret - prefix.length, to };
    }
    if (!labelStage) return null;
    const eq = stage.match(opRe);
    if (eq) {
      return { kind: 'labelValue', filter: true, label: eq[1], prefix: '', from: caret, to: caret, quote: '"', openQuote: true, selector };
    }
    const next = stage.match(/(?:\s(?:and|or)\s+|,\s*|\(\s*)([A-Za-z_][A-Za-z0-9_]*)?$/);
    if (!next) return null;
    const prefix = next[1] || '';
    return { kind: 'field', stage: false, selector, prefix, from: caret - prefix.length, to };
  }
  if (m.quote) return null;

  const grouping = masked.match(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)$/);
  if (grouping) {
    const name = grouping[1].match(/(?:^|,)\s*([A-Za-z_][A-Za-z0-9_]*)?$/);
    if (!name) return null;
    const prefix = name[1] || '';
    return { kind: 'field', stage: false, grouping: true, selector, prefix, from: caret - prefix.length, to };
  }
  if (/\[[^\]]*$/.test(masked)) return null; // inside a range [5m]
  const word = masked.match(/[A-Za-z_][A-Za-z0-9_]*$/);
  if (!word) return null;
  const from = caret - word[0].length;
  if (from > 0 && /[0-9.]/.test(masked[from - 1])) return null;
  return { kind: 'function', prefix: word[0], from, to };
}

/** functionItems are the suggestions at the top level of a metric query. */
export function functionItems() {
  return [
    ...LOGQL_FUNCTIONS.map((text) => ({ text, kind: 'function', insert: `${text}(` })),
    ...LOGQL_KEYWORDS.map((text) => ({ text, kind: 'keyword' })),
  ];
}
