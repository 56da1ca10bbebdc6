// Silences page: Alertmanager's silences (active, pending, expired) with an
// Expire button, and the form that creates one, with a live preview of the
// alerts its matchers select.

import { alertmanager } from './api.js';
import {
  FormError, OPERATORS, amState, buildSilence, formatMatcher, fromApiMatcher, labelChips, matcherChips,
  parseMatcher, sortSilences, stateBadge, timeNode, toDateTimeLocal,
} from './alerting.js';
import { el, formatCount, formatDuration, parseDuration } from './format.js';

const REFRESH_MS = 15_000;
const PREVIEW_DELAY_MS = 300;
const MAX_EXPIRED = 200;
const CREATOR_KEY = 'lookout.silence.createdBy';

function plural(n, noun) {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

function recreateHref(s) {
  const q = new URLSearchParams({ new: '1' });
  for (const m of s.matchers || []) q.append('matcher', formatMatcher(fromApiMatcher(m)));
  if (s.comment) q.set('comment', s.comment);
  return `/silences?${q}`;
}

function silenceSearchText(s) {
  return [s.id, s.createdBy, s.comment, ...(s.matchers || []).map((m) => formatMatcher(fromApiMatcher(m)))].join(' ').toLowerCase();
}

function readStoredCreator() {
  try {
    return localStorage.getItem(CREATOR_KEY) || '';
  } catch {
    return '';
  }
}

function storeCreator(name) {
  try {
    localStorage.setItem(CREATOR_KEY, name);
  } catch {
    // Storage may be disabled; the form then starts empty.
  }
}

/** mount renders the silences page into root. */
export function mount(root) {
  const controller = new AbortController();

  // --- list -------------------------------------------------------------
  const filterInput = el('input', {
    type: 'search', id: 'silences-filter', 'data-testid': 'silences-filter', spellcheck: 'false',
    placeholder: 'Filter by matcher, creator, comment or ID', 'aria-label': 'Filter silences',
  });
  const newButton = el('button', { type: 'button', class: 'btn primary', id: 'silence-new', 'data-testid': 'silence-new', text: 'New silence' });
  const refresh = el('button', { type: 'button', class: 'btn', id: 'silences-refresh', text: 'Refresh' });
  const summary = el('p', { class: 'muted', id: 'silences-summary', 'aria-live': 'polite' });
  const errorBox = el('div', { class: 'alert error', role: 'alert', id: 'silences-error', 'data-testid': 'silences-error', hidden: true });
  const notice = el('div', { class: 'note', id: 'silence-notice', 'data-testid': 'silence-notice', role: 'status', hidden: true });
  const list = el('div', { id: 'silences-list', 'data-testid': 'silences-list' });

  // --- form -------------------------------------------------------------
  const matcherRows = el('div', { class: 'matcher-rows', id: 'silence-matchers' });
  const addMatcher = el('button', { type: 'button', class: 'btn small', 'data-testid': 'matcher-add', text: '+ Matcher' });
  const matchersError = el('p', { class: 'field-error', id: 'silence-matchers-error', hidden: true });
  const startInput = el('input', { type: 'datetime-local', id: 'silence-start', 'data-testid': 'silence-start', 'aria-describedby': 'silence-start-hint' });
  const durationInput = el('input', { type: 'text', id: 'silence-duration', 'data-testid': 'silence-duration', value: '2h', spellcheck: 'false', 'aria-describedby': 'silence-duration-error' });
  const durationError = el('p', { class: 'field-error', id: 'silence-duration-error', hidden: true });
  const endInput = el('input', { type: 'datetime-local', id: 'silence-end', 'data-testid': 'silence-end', 'aria-describedby': 'silence-end-error' });
  const endError = el('p', { class: 'field-error', id: 'silence-end-error', hidden: true });
  const creatorInput = el('input', { type: 'text', id: 'silence-creator', 'data-testid': 'silence-creator', autocomplete: 'username' });
  const commentInput = el('textarea', { id: 'silence-comment', 'data-testid': 'silence-comment', rows: '3' });
  const formError = el('div', { class: 'alert error', role: 'alert', id: 'silence-form-error', 'data-testid': 'silence-form-error', hidden: true });
  const submit = el('button', { type: 'submit', class: 'btn primary', 'data-testid': 'silence-submit', text: 'Create silence' });
  const cancel = el('button', { type: 'button', class: 'btn', 'data-testid': 'silence-cancel', text: 'Cancel' });
  const previewSummary = el('p', { class: 'muted', id: 'silence-preview-summary', 'data-testid': 'silence-preview-summary', 'aria-live': 'polite' });
  const previewList = el('ul', { class: 'preview-list', id: 'silence-preview', 'data-testid': 'silence-preview' });

  const form = el('form', { class: 'card silence-form', id: 'silence-form', 'data-testid': 'silence-form', novalidate: true, hidden: true, 'aria-labelledby': 'silence-form-title' },
    el('h2', { id: 'silence-form-title', text: 'New silence' }),
    el('div', { class: 'silence-form-grid' },
      el('div', { class: 'silence-fields' },
        el('fieldset', { class: 'matchers' },
          el('legend', { text: 'Matchers' }),
          el('p', { class: 'hint', text: 'Alerts that match all of these are silenced. =~ and !~ take regular expressions matching the whole value.' }),
          matcherRows, addMatcher, matchersError),
        el('div', { class: 'form-row' },
          el('label', { for: 'silence-start', text: 'Starts' }),
          el('div', {}, startInput, el('p', { class: 'hint', id: 'silence-start-hint', text: 'Empty means now.' }))),
        el('div', { class: 'form-row' },
          el('label', { for: 'silence-duration', text: 'Duration' }),
          el('div', {}, durationInput, durationError)),
        el('div', { class: 'form-row' },
          el('label', { for: 'silence-end', text: 'Ends' }),
          el('div', {}, endInput, endError)),
        el('div', { class: 'form-row' },
          el('label', { for: 'silence-creator', text: 'Created by' }), creatorInput),
        el('div', { class: 'form-row' },
          el('label', { for: 'silence-comment', text: 'Comment' }), commentInput),
        formError,
        el('div', { class: 'form-actions' }, submit, cancel)),
      el('div', { class: 'silence-preview', 'aria-labelledby': 'silence-preview-title' },
        el('h3', { id: 'silence-preview-title', text: 'Affected alerts' }),
        previewSummary, previewList)));

  root.append(el('section', { class: 'page', 'aria-labelledby': 'silences-title' },
    el('div', { class: 'page-head' },
      el('h1', { id: 'silences-title', text: 'Silences' }),
      el('div', { class: 'controls' }, filterInput, newButton, refresh)),
    notice, form, summary, errorBox, list));

  let silences = null;
  let useEnd = false; // the end time, not the duration, was edited last
  let timer = null;
  let previewTimer = null;
  let previewSeq = 0;
  let loadSeq = 0;

  // --- matcher rows -----------------------------------------------------
  function matcherRow({ name = '', op = '=', value = '' } = {}) {
    const nameInput = el('input', { type: 'text', class: 'matcher-name', 'data-testid': 'matcher-name', value: name, placeholder: 'label', 'aria-label': 'Label name', spellcheck: 'false' });
    const opSelect = el('select', { class: 'matcher-op', 'data-testid': 'matcher-op', 'aria-label': 'Operator' },
      ...OPERATORS.map((o) => el('option', { value: o, text: o })));
    opSelect.value = op;
    const valueInput = el('input', { type: 'text', class: 'matcher-value', 'data-testid': 'matcher-value', value, placeholder: 'value', 'aria-label': 'Label value', spellcheck: 'false' });
    const remove = el('button', { type: 'button', class: 'btn small', 'data-testid': 'matcher-remove', 'aria-label': 'Remove matcher', text: '×' });
    const row = el('div', { class: 'matcher-row', 'data-testid': 'matcher-row' }, nameInput, opSelect, valueInput, remove);
    remove.addEventListener('click', () => {
      row.remove();
      if (matcherRows.children.length === 0) matcherRows.append(matcherRow());
      schedulePreview();
    });
    return row;
  }

  function formMatchers() {
    return [...matcherRows.querySelectorAll('.matcher-row')].map((row) => ({
      name: row.querySelector('.matcher-name').value.trim(),
      op: row.querySelector('.matcher-op').value,
      value: row.querySelector('.matcher-value').value,
    }));
  }

  // --- times ------------------------------------------------------------
  function startMillis() {
    const t = startInput.value ? Date.parse(startInput.value) : Date.now();
    return Number.isFinite(t) ? t : Date.now();
  }

  function syncEndFromDuration() {
    const seconds = parseDuration(durationInput.value);
    if (Number.isFinite(seconds) && seconds > 0) endInput.value = toDateTimeLocal(startMillis() + seconds * 1000);
  }

  function syncDurationFromEnd() {
    const end = Date.parse(endInput.value);
    if (!Number.isFinite(end)) return;
    const seconds = Math.round((end - startMillis()) / 1000);
    durationInput.value = seconds > 0 ? formatDuration(seconds) : '';
  }

  // --- preview ----------------------------------------------------------
  function schedulePreview() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(runPreview, PREVIEW_DELAY_MS);
  }

  async function runPreview() {
    const mine = ++previewSeq;
    const ms = formMatchers().filter((m) => m.name !== '');
    if (ms.length === 0) {
      previewSummary.textContent = 'Add a matcher to see which alerts it silences.';
      previewList.replaceChildren();
      return;
    }
    previewList.setAttribute('aria-busy', 'true');
    try {
      const alerts = await alertmanager('alerts', {
        params: { filter: ms.map(formatMatcher), active: true, silenced: true, inhibited: true },
        signal: controller.signal,
      });
      if (mine !== previewSeq) return;
      const sorted = (alerts || []).slice().sort((a, b) => (JSON.stringify(a.labels) < JSON.stringify(b.labels) ? -1 : 1));
      previewSummary.textContent = sorted.length === 0
        ? 'No alert in Alertmanager matches these matchers right now.'
        : `${plural(sorted.length, 'alert')} match${sorted.length === 1 ? 'es' : ''} right now.`;
      previewList.replaceChildren(...sorted.map((a) => el('li', { 'data-testid': 'preview-alert', 'data-alertname': (a.labels || {}).alertname || '' },
        stateBadge(amState(a.status)), labelChips(a.labels))));
    } catch (err) {
      if (err.name === 'AbortError' || mine !== previewSeq) return;
      previewSummary.textContent = `Cannot preview: ${err.message}`;
      previewList.replaceChildren();
    } finally {
      if (mine === previewSeq) previewList.removeAttribute('aria-busy');
    }
  }

  // --- form open/close/submit --------------------------------------------
  function clearFieldErrors() {
    for (const box of [matchersError, durationError, endError, formError]) box.hidden = true;
    for (const input of form.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  }

  function openForm({ matchers = [], comment = '' } = {}, problems = []) {
    notice.hidden = true;
    clearFieldErrors();
    matcherRows.replaceChildren(...(matchers.length ? matchers : [{}]).map(matcherRow));
    if (problems.length) {
      matchersError.textContent = problems.join('\n');
      matchersError.hidden = false;
    }
    startInput.value = '';
    durationInput.value = '2h';
    useEnd = false;
    syncEndFromDuration();
    creatorInput.value = creatorInput.value || readStoredCreator();
    commentInput.value = comment;
    form.hidden = false;
    newButton.hidden = true;
    runPreview();
    const first = matcherRows.querySelector('.matcher-name');
    (matchers.length ? (creatorInput.value ? commentInput : creatorInput) : first).focus({ preventScroll: true });
    form.scrollIntoView({ block: 'nearest' });
  }

  function closeForm() {
    form.hidden = true;
    newButton.hidden = false;
    clearTimeout(previewTimer);
    previewSeq++;
    const q = new URLSearchParams(location.search);
    if (q.has('new')) {
      q.delete('new');
      q.delete('matcher');
      q.delete('comment');
      history.replaceState(null, '', `${location.pathname}${[...q].length ? `?${q}` : ''}`);
    }
  }

  function showFieldError(err) {
    const target = { matchers: [matchersError, null], duration: [durationError, durationInput], endsAt: [endError, endInput], startsAt: [endError, startInput] }[err.field];
    if (!target) {
      formError.textContent = err.message;
      formError.hidden = false;
      return;
    }
    target[0].textContent = err.message;
    target[0].hidden = false;
    if (target[1]) target[1].setAttribute('aria-invalid', 'true');
  }

  async function onSubmit(event) {
    event.preventDefault();
    clearFieldErrors();
    let body;
    try {
      body = buildSilence({
        matchers: formMatchers(),
        startsAt: startInput.value,
        endsAt: endInput.value,
        duration: durationInput.value,
        useEnd,
        createdBy: creatorInput.value,
        comment: commentInput.value,
      });
    } catch (err) {
      if (err instanceof FormError) {
        showFieldError(err);
        return;
      }
      throw err;
    }
    submit.disabled = true;
    try {
      const res = await alertmanager('silences', { method: 'POST', body, signal: controller.signal });
      const id = (res && res.silenceID) || '';
      if (body.createdBy) storeCreator(body.createdBy);
      closeForm();
      notice.replaceChildren(`Silence `, el('code', { 'data-testid': 'silence-created-id', text: id }), ' created. ',
        el('a', { href: '/alerts', 'data-link': true, text: 'Back to alerts' }), '.');
      notice.hidden = false;
      await load();
    } catch (err) {
      if (err.name === 'AbortError') return;
      formError.textContent = `The silence was not created: ${err.message}`;
      formError.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  // --- list -------------------------------------------------------------
  async function expire(s, button) {
    button.disabled = true;
    try {
      await alertmanager(`silence/${encodeURIComponent(s.id)}`, { method: 'DELETE', signal: controller.signal });
      notice.replaceChildren('Silence ', el('code', { text: s.id }), ' expired.');
      notice.hidden = false;
      await load();
    } catch (err) {
      if (err.name === 'AbortError') return;
      errorBox.textContent = `Cannot expire silence ${s.id}: ${err.message}`;
      errorBox.hidden = false;
      button.disabled = false;
    }
  }

  function silenceRow(s, state, now) {
    const expireButton = state === 'expired' ? null
      : el('button', { type: 'button', class: 'btn small', 'data-testid': 'silence-expire', text: 'Expire' });
    if (expireButton) expireButton.addEventListener('click', () => expire(s, expireButton));
    return el('tr', { 'data-testid': 'silence-row', 'data-silence-id': s.id, 'data-state': state },
      el('td', {}, stateBadge(state, { 'data-testid': 'silence-state' })),
      el('td', {},
        matcherChips((s.matchers || []).map(fromApiMatcher)),
        el('div', { class: 'muted small mono', title: 'Silence ID', text: s.id })),
      el('td', { class: 'nowrap' }, timeNode(s.startsAt, { now })),
      el('td', { class: 'nowrap' }, timeNode(s.endsAt, { now })),
      el('td', { text: s.createdBy || '' }),
      el('td', { class: 'cell-comment', text: s.comment || '' }),
      el('td', { class: 'nowrap' }, expireButton,
        el('a', { class: 'btn small', href: recreateHref(s), 'data-link': true, 'data-testid': 'silence-recreate', text: state === 'expired' ? 'Recreate' : 'Duplicate' })));
  }

  function section(state, title, items, now) {
    const shown = state === 'expired' ? items.slice(0, MAX_EXPIRED) : items;
    return el('section', { class: 'card', id: `silences-${state}`, 'data-testid': `silences-${state}`, 'aria-labelledby': `silences-${state}-title` },
      el('h2', { id: `silences-${state}-title`, class: 'pool-title' },
        el('span', { text: title }), el('span', { class: `pool-count ${state === 'active' ? 'ok' : 'neutral'}`, text: formatCount(items.length) })),
      items.length === 0
        ? el('p', { class: 'empty small', text: `No ${state} silences.` })
        : el('div', { class: 'table-scroll' },
          el('table', { class: 'data silences-table' },
            el('thead', {}, el('tr', {},
              ...['State', 'Matchers', 'Starts', 'Ends', 'Created by', 'Comment', ''].map((h) => el('th', { scope: 'col', text: h })))),
            el('tbody', {}, ...shown.map((s) => silenceRow(s, state, now))))),
      shown.length < items.length ? el('p', { class: 'note', text: `Showing the ${formatCount(shown.length)} most recently expired.` }) : null);
  }

  function render() {
    if (silences === null) return;
    const now = Date.now();
    const filter = filterInput.value.trim().toLowerCase();
    const visible = filter ? silences.filter((s) => silenceSearchText(s).includes(filter)) : silences;
    const by = sortSilences(visible, now);
    const all = sortSilences(silences, now);
    summary.textContent = `${plural(all.active.length, 'active silence')}, ${formatCount(all.pending.length)} pending, ${formatCount(all.expired.length)} expired.` +
      (filter ? ` ${plural(visible.length, 'silence')} match the filter.` : '');
    list.replaceChildren(
      section('active', 'Active', by.active, now),
      section('pending', 'Pending', by.pending, now),
      section('expired', 'Expired', by.expired, now));
  }

  async function load() {
    const mine = ++loadSeq;
    list.setAttribute('aria-busy', 'true');
    try {
      const data = await alertmanager('silences', { signal: controller.signal });
      if (mine !== loadSeq) return;
      silences = Array.isArray(data) ? data : [];
      errorBox.hidden = true;
      render();
    } catch (err) {
      if (err.name === 'AbortError') return;
      errorBox.textContent = `Cannot load silences: ${err.message}`;
      errorBox.hidden = false;
    } finally {
      if (mine === loadSeq) list.removeAttribute('aria-busy');
    }
  }

  function readURL() {
    const q = new URLSearchParams(location.search);
    filterInput.value = q.get('id') || '';
    if (q.has('new')) {
      const matchers = [];
      const problems = [];
      for (const text of q.getAll('matcher')) {
        try {
          matchers.push(parseMatcher(text));
        } catch (err) {
          problems.push(`Cannot use matcher ${text}: ${err.message}`);
        }
      }
      openForm({ matchers, comment: q.get('comment') || '' }, problems);
    }
  }

  // --- events -----------------------------------------------------------
  addMatcher.addEventListener('click', () => {
    const row = matcherRow();
    matcherRows.append(row);
    row.querySelector('.matcher-name').focus();
  });
  matcherRows.addEventListener('input', schedulePreview);
  matcherRows.addEventListener('change', schedulePreview);
  startInput.addEventListener('input', () => (useEnd ? syncDurationFromEnd() : syncEndFromDuration()));
  durationInput.addEventListener('input', () => {
    useEnd = false;
    syncEndFromDuration();
  });
  endInput.addEventListener('input', () => {
    useEnd = true;
    syncDurationFromEnd();
  });
  form.addEventListener('submit', onSubmit);
  cancel.addEventListener('click', closeForm);
  newButton.addEventListener('click', () => openForm());
  filterInput.addEventListener('input', render);
  refresh.addEventListener('click', load);

  readURL();
  load();
  timer = setInterval(() => {
    if (!document.hidden) load();
  }, REFRESH_MS);
  return {
    unmount() {
      controller.abort();
      clearInterval(timer);
      clearTimeout(previewTimer);
    },
    update() {
      readURL();
      render();
    },
  };
}
