// Entry point: navigation bar and client-side routing.

import { el } from './format.js';
import * as explorer from './explorer.js';
import * as logs from './logs.js';
import * as alerts from './alerts.js';
import * as rules from './rules.js';
import * as silences from './silences.js';
import * as notifications from './notifications.js';
import * as targets from './targets.js';
import * as status from './status.js';

// Each area of the product is one entry. A new area gets a view module and
// one line here; nothing else in the shell changes.
const areas = [
  { id: 'explore', label: 'Explore', href: '/graph', paths: ['/', '/graph'], view: explorer, title: 'Explore' },
  { id: 'logs', label: 'Logs', href: '/logs', paths: ['/logs'], view: logs, title: 'Logs' },
  { id: 'alerts', label: 'Alerts', href: '/alerts', paths: ['/alerts'], view: alerts, title: 'Alerts' },
  { id: 'rules', label: 'Rules', href: '/rules', paths: ['/rules'], view: rules, title: 'Rules' },
  { id: 'silences', label: 'Silences', href: '/silences', paths: ['/silences'], view: silences, title: 'Silences' },
  { id: 'notifications', label: 'Notifications', href: '/notifications', paths: ['/notifications'], view: notifications, title: 'Notifications' },
  { id: 'targets', label: 'Targets', href: '/targets', paths: ['/targets'], view: targets, title: 'Targets' },
  { id: 'status', label: 'Status', href: '/status', paths: ['/status'], view: status, title: 'Status' },
];

const notFound = {
  mount(root) {
    root.append(el('section', { class: 'page' },
      el('h1', { text: 'Page not found' }),
      el('p', {}, 'There is nothing at ', el('code', { text: location.pathname }), '. ',
        el('a', { href: '/graph', 'data-link': true, text: 'Go to Explore' }), '.'),
    ));
    return () => {};
  },
};

const main = document.getElementById('main');
let current = null; // { area, unmount }

function normalizePath(pathname) {
  const p = pathname.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

function renderNav(active) {
  const list = document.getElementById('nav-links');
  list.replaceChildren(...areas.map((area) => el('li', {},
    el('a', {
      href: area.href,
      'data-link': true,
      'data-testid': `nav-${area.id}`,
      id: `nav-${area.id}`,
      class: area === active ? 'active' : '',
      'aria-current': area === active ? 'page' : null,
      text: area.label,
    }),
  )));
}

function route() {
  const path = normalizePath(location.pathname);
  const area = areas.find((a) => a.paths.includes(path)) || null;
  if (current && current.area === area && area) {
    // Same view, new query string (back/forward inside the explorer).
    if (current.update) current.update();
    return;
  }
  if (current) current.unmount();
  main.replaceChildren();
  renderNav(area);
  document.title = area ? `${area.title} · Lookout` : 'Not found · Lookout';
  const view = area ? area.view : notFound;
  const handle = view.mount(main);
  current = {
    area,
    unmount: typeof handle === 'function' ? handle : handle.unmount,
    update: typeof handle === 'function' ? null : handle.update,
  };
}

/** navigate moves to an in-app URL without reloading the page. */
export function navigate(href) {
  history.pushState(null, '', href);
  route();
  main.focus({ preventScroll: true });
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[data-link]');
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
});

window.addEventListener('popstate', route);
route();
