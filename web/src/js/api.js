// Client for the Prometheus-compatible HTTP API served by the same origin.

/** ApiError carries the API's errorType and error message. */
export class ApiError extends Error {
  constructor(message, { errorType = '', status = 0 } = {}) {
    super(message);
    this.name = 'ApiError';
    this.errorType = errorType;
    this.status = status;
  }
}

/**
 * request calls an /api/v1 endpoint and returns the whole envelope
 * ({status, data, warnings, infos}). It throws ApiError when the API answers
 * with status "error" or with something that is not the JSON envelope.
 * Parameters whose value is an array are sent once per element (match[]).
 */
export async function request(path, params = {}, { method = 'GET', signal } = {}) {
  const body = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) body.append(key, String(v));
  }
  let url = `/api/v1/${path}`;
  const init = { method, signal, headers: { Accept: 'application/json' } };
  if (method === 'POST') {
    init.body = body;
  } else if ([...body].length > 0) {
    url += `?${body}`;
  }

  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(`cannot reach the server: ${err.message}`);
  }
  const text = await res.text();
  let envelope;
  try {
    envelope = JSON.parse(text);
  } catch {
    if (res.status === 401) {
      throw new ApiError('the server needs credentials (HTTP 401); reload the page to sign in', { status: res.status });
    }
    const detail = text.trim().split('\n')[0].slice(0, 200);
    throw new ApiError(`unexpected response from ${path}: HTTP ${res.status}${detail ? `: ${detail}` : ''}`, { status: res.status });
  }
  if (envelope.status !== 'success') {
    throw new ApiError(envelope.error || `HTTP ${res.status}`, {
      errorType: envelope.errorType || '',
      status: res.status,
    });
  }
  return envelope;
}

/** get returns only the data field of a GET request. */
export async function get(path, params, opts) {
  return (await request(path, params, opts)).data;
}

/** query runs an instant query. */
export function query(expr, time, opts) {
  return request('query', { query: expr, time }, { ...opts, method: 'POST' });
}

/** queryRange runs a range query; start and end are unix seconds, step is seconds. */
export function queryRange(expr, start, end, step, opts) {
  return request('query_range', { query: expr, start, end, step }, { ...opts, method: 'POST' });
}

/** formatQuery asks the server to pretty-print an expression. */
export async function formatQuery(expr, opts) {
  return (await request('format_query', { query: expr }, { ...opts, method: 'POST' })).data;
}

/**
 * alertmanager calls Lookout's Alertmanager API v2 (under /alertmanager) and
 * returns the decoded JSON body (null for an empty one). params work like in
 * request (arrays repeat: filter=a&filter=b); body is sent as JSON. Errors
 * become ApiError with the API's message: Alertmanager answers 400 with a
 * JSON string, or with {code, message} when the request fails validation.
 */
export async function alertmanager(path, { method = 'GET', params = {}, body, signal } = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, String(v));
  }
  const qs = [...query].length > 0 ? `?${query}` : '';
  const init = { method, signal, headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(`/alertmanager/api/v2/${path}${qs}`, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(`cannot reach the server: ${err.message}`);
  }
  const text = await res.text();
  const type = res.headers.get('Content-Type') || '';
  let decoded;
  let isJSON = false;
  if (text.trim() !== '' && !type.includes('text/html')) {
    try {
      decoded = JSON.parse(text);
      isJSON = true;
    } catch {
      // Not JSON; reported below.
    }
  }
  if (res.ok) {
    if (text.trim() === '') return null;
    if (isJSON) return decoded;
    throw new ApiError(`the Alertmanager API is not available at /alertmanager/api/v2/${path} (HTTP ${res.status}, ${type || 'no content type'})`, { status: res.status });
  }
  if (res.status === 401) {
    throw new ApiError('the server needs credentials (HTTP 401); reload the page to sign in', { status: res.status });
  }
  let message = '';
  if (isJSON && typeof decoded === 'string') message = decoded;
  else if (isJSON && decoded && typeof decoded === 'object') message = decoded.message || decoded.error || JSON.stringify(decoded);
  else message = text.trim().split('\n')[0].slice(0, 300);
  throw new ApiError(`${message || 'no message'} (HTTP ${res.status})`, { status: res.status });
}

/**
 * loki calls Lookout's Loki-compatible API (/loki/api/v1) and returns the
 * decoded JSON body. Loki answers errors as plain text (a LogQL parse error
 * with 400); they become ApiError with that text. Parameters are sent as a
 * form for POST and in the URL otherwise; empty ones are left out.
 * categorize asks for stream labels, structured metadata and parsed labels
 * apart (Loki's categorize-labels encoding flag).
 */
export async function loki(path, params = {}, { method = 'GET', signal, categorize = false } = {}) {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined || value === null || value === '') continue;
    form.append(key, String(value));
  }
  let url = `/loki/api/v1/${path}`;
  const init = { method, signal, headers: { Accept: 'application/json' } };
  if (categorize) init.headers['X-Loki-Response-Encoding-Flags'] = 'categorize-labels';
  if (method === 'POST') init.body = form;
  else if ([...form].length > 0) url += `?${form}`;

  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw new ApiError(`cannot reach the server: ${err.message}`);
  }
  const text = await res.text();
  if (res.status === 401) {
    throw new ApiError('the server needs credentials (HTTP 401); reload the page to sign in', { status: res.status });
  }
  if (!res.ok) {
    const type = res.headers.get('Content-Type') || '';
    let message = type.includes('text/html') ? '' : text.trim().slice(0, 1000);
    if (res.status === 404 && !message.includes('parse error')) {
      message = `the log API is not available at /loki/api/v1/${path}${message ? `: ${message}` : ''}`;
    }
    throw new ApiError(message || `HTTP ${res.status}`, { status: res.status });
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(`unexpected response from /loki/api/v1/${path}: HTTP ${res.status}: ${text.trim().slice(0, 200)}`, { status: res.status });
  }
  if (body && typeof body === 'object' && 'status' in body && body.status !== 'success') {
    throw new ApiError(body.error || body.message || `HTTP ${res.status}`, { status: res.status });
  }
  return body;
}

/** lokiQueryRange runs a LogQL range query; start and end are nanosecond strings. */
export function lokiQueryRange({ query, start, end, limit, direction, step }, opts = {}) {
  return loki('query_range', { query, start, end, limit, direction, step }, { ...opts, method: 'POST' });
}

/**
 * lokiTailURL is the WebSocket URL of the live tail of a log query. delayFor
 * (whole seconds, at most 5) makes the server read that far behind now, so
 * that lines stored a little after their timestamp are not missed.
 */
export function lokiTailURL({ query, start, limit, delayFor }) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const q = new URLSearchParams({ query });
  if (start) q.set('start', start);
  if (limit) q.set('limit', String(limit));
  if (delayFor) q.set('delay_for', String(delayFor));
  return `${scheme}//${location.host}/loki/api/v1/tail?${q}`;
}
