// The service worker of the controllers' round (scope /m/). It keeps on the phone the pages the
// controller opened, so that a plot and its reading form still open in a dead spot, and the app's
// own files, per version. Sending readings is app.js's job: posts pass through untouched.
'use strict';

const VERSION = '__VERSION__'; // put in by the server: a digest of the app's files
const STATIC = `obhod-static-${VERSION}`;
const PAGES = 'obhod-pages';
const ASSETS = ['/m/app.js', '/m/manifest.webmanifest', '/m/icon.svg'];
// Each page a keep fetches comes within this or is given up: a weak signal must not hold the worker.
const KEEP_TIMEOUT_MS = 60_000;

self.addEventListener('install', event => {
  // `reload`: past the browser's HTTP cache, so a new version never keeps an old file.
  const requests = ASSETS.map(url => new Request(url, { cache: 'reload' }));
  event.waitUntil(caches.open(STATIC).then(cache => cache.addAll(requests)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', event => {
  // Old versions' files go; kept pages stay, so an update in the middle of a round loses nothing.
  const old = key => key.startsWith('obhod-static-') && key !== STATIC;
  event.waitUntil(caches.keys()
    .then(keys => Promise.all(keys.filter(old).map(key => caches.delete(key))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', event => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== location.origin) return;
  if (ASSETS.includes(url.pathname)) {
    event.respondWith(caches.match(request, { cacheName: STATIC, ignoreSearch: true })
      .then(cached => cached ?? fetch(request)));
  } else if (request.mode === 'navigate' && url.pathname.startsWith('/m/')) {
    event.respondWith(networkFirst(request));
  }
});

// Counts logouts: a keep or navigation begun before one keeps nothing, as its pages show
// consumers' debts. In memory is enough: a worker is not stopped while it has work in hand.
let logouts = 0;

// app.js asks for the pages a controller may need next (the reading forms of the plot on
// screen) to be kept while there is a signal, and to forget them all at logout.
self.addEventListener('message', event => {
  if (Array.isArray(event.data?.keep)) event.waitUntil(keep(event.data.keep));
  if (event.data?.forget) {
    logouts += 1;
    event.waitUntil(caches.delete(PAGES));
  }
});

// Only a page as the server rendered it: not a redirect (to the login form), not an error.
const keepable = response => response.ok && response.type === 'basic' && !response.redirected;

// Puts a page in the phone's cache unless a logout came since `logoutsBefore`. Checked and opened
// in one step: a logout's deletion is asked for after any opening the check let by, so a late put
// lands in the deleted cache.
async function put(request, response, logoutsBefore) {
  if (logouts === logoutsBefore && keepable(response)) await (await caches.open(PAGES)).put(request, response);
}

async function networkFirst(request) {
  const before = logouts;
  try {
    const response = await fetch(request);
    await put(request, response.clone(), before);
    return response;
  } catch {
    const cached = await caches.match(request, { cacheName: PAGES, ignoreVary: true });
    return cached ? marked(cached) : notKept();
  }
}

async function keep(urls) {
  const before = logouts;
  for (const url of urls) {
    if (await caches.match(url, { cacheName: PAGES })) continue;
    const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(KEEP_TIMEOUT_MS) })
      .catch(() => null);
    if (response) await put(url, response, before);
  }
}

// A kept page, marked with the time the server rendered it, for app.js's «нет сети» banner.
async function marked(cached) {
  const at = Date.parse(cached.headers.get('Date')) || 0;
  const html = (await cached.text()).replace('<html', `<html data-kept-at="${at}"`);
  const headers = new Headers(cached.headers);
  headers.delete('Content-Length');
  return new Response(html, { status: cached.status, headers });
}

function notKept() {
  const html = '<!DOCTYPE html><html lang="ru"><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Нет сети</title>' +
    '<body style="font: 18px/1.4 system-ui, sans-serif; margin: 1rem"><h1>Нет сети</h1>' +
    '<p>Эта страница не открывалась, пока была сеть, поэтому её нет на телефоне.</p>' +
    '<p><a href="/m/">К обходу</a></p>';
  return new Response(html, { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } });
}
