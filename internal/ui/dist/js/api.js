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
