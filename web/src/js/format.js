// Small helpers for building DOM and formatting values.

/**
 * el creates an element. attrs sets attributes, except: "class", "text"
 * (textContent), "dataset" (object) and "on*" functions (event listeners).
 * Children may be strings, nodes, or null (skipped).
 */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** parseSample converts a sample value string ("1", "NaN", "+Inf") to a number. */
export function parseSample(s) {
  if (s === '+Inf' || s === 'Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  return Number(s);
}

/** labelPairs returns the labels without __name__, sorted by name. */
export function labelPairs(metric) {
  return Object.entries(metric || {})
    .filter(([k]) => k !== '__name__')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** seriesName renders a label set the way PromQL writes it: name{a="b", c="d"}. */
export function seriesName(metric) {
  const name = (metric && metric.__name__) || '';
  const pairs = labelPairs(metric).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  if (pairs.length === 0) return name || '{}';
  return `${name}{${pairs.join(', ')}}`;
}

/** seriesNode renders a label set with markup for styling. */
export function seriesNode(metric) {
  const name = (metric && metric.__name__) || '';
  const pairs = labelPairs(metric);
  const node = el('span', { class: 'series' });
  if (name) node.append(el('span', { class: 'series-name', text: name }));
  if (pairs.length === 0) {
    if (!name) node.append('{}');
    return node;
  }
  node.append('{');
  pairs.forEach(([k, v], i) => {
    if (i > 0) node.append(', ');
    node.append(
      el('span', { class: 'label-name', text: k }),
      '=',
      el('span', { class: 'label-value', text: JSON.stringify(v) }),
    );
  });
  node.append('}');
  return node;
}

/** formatNumber prints a sample value with up to 6 significant digits for large ranges. */
export function formatNumber(n) {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e15)) return n.toExponential(4);
  return String(Number(n.toPrecision(10)));
}

const siPrefixes = [
  [1e15, 'P'], [1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k'],
];

/** formatAxis prints an axis tick with SI suffixes. */
export function formatAxis(n) {
  if (n === null || n === undefined) return '';
  const abs = Math.abs(n);
  for (const [factor, prefix] of siPrefixes) {
    if (abs >= factor) return `${Number((n / factor).toPrecision(4))}${prefix}`;
  }
  if (abs !== 0 && abs < 1e-3) return n.toExponential(1);
  return String(Number(n.toPrecision(4)));
}

const units = [
  ['w', 7 * 24 * 3600], ['d', 24 * 3600], ['h', 3600], ['m', 60], ['s', 1], ['ms', 0.001],
];

/** parseDuration parses a Prometheus duration ("1h30m", "15s", "250ms") into seconds, or returns NaN. */
export function parseDuration(text) {
  const s = String(text).trim();
  if (s === '') return NaN;
  if (/^\d+(\.\d+)?$/.test(s)) return Number(s);
  const re = /(\d+)(ms|[smhdwy])/g;
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) return NaN;
    const factor = m[2] === 'y' ? 365 * 24 * 3600 : units.find(([u]) => u === m[2])[1];
    total += Number(m[1]) * factor;
    consumed += m[0].length;
  }
  return consumed === s.length ? total : NaN;
}

/** formatDuration prints seconds as a short Prometheus-style duration. */
export function formatDuration(seconds) {
  if (!Number.isFinite(seconds)) return '';
  if (seconds === 0) return '0s';
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(3))}ms`;
  let rest = Math.round(seconds);
  let out = '';
  for (const [unit, size] of units) {
    if (size < 1) break;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}

/** formatSeconds prints a short elapsed time ("12.3ms", "1.52s"). */
export function formatSeconds(seconds) {
  if (!Number.isFinite(seconds)) return '';
  if (seconds < 1) return `${Number((seconds * 1000).toPrecision(3))}ms`;
  if (seconds < 60) return `${Number(seconds.toPrecision(3))}s`;
  return formatDuration(seconds);
}

/** formatAgo prints how long ago a timestamp was ("3.1s ago"). */
export function formatAgo(date, now = Date.now()) {
  const t = date instanceof Date ? date.getTime() : Date.parse(date);
  if (!Number.isFinite(t) || t <= 0) return 'never';
  const seconds = (now - t) / 1000;
  if (seconds < 0) return 'just now';
  return `${formatSeconds(seconds)} ago`;
}

/** formatTime prints a unix time in seconds as a local date and time. */
export function formatTime(unixSeconds) {
  const d = new Date(unixSeconds * 1000);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    (d.getMilliseconds() ? `.${pad(d.getMilliseconds(), 3)}` : '');
}

/** formatBytes prints a byte count with binary units. */
export function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  const names = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < names.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${names[i]}`;
}

/** formatCount prints an integer with thousands separators. */
export function formatCount(n) {
  return Number(n).toLocaleString('en-US');
}
