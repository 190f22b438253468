// The controllers' round without a signal. The reading form is queued on the phone (IndexedDB,
// so the queue survives closing the browser) and the queue is sent one reading at a time when
// the server can be reached: on load, when the phone comes online, and every half minute while
// something waits. Each reading carries a key made here, so a retry never stores it twice.
// Without this script (or without a secure context) the forms post as plain HTML forms.
'use strict';

const RETRY_MS = 30_000;
// How long a saved form waits for its reading to be sent at once before the walk goes on.
const SEND_NOW_MS = 15_000;
const SESSION_TIMEOUT_MS = 10_000;
// A weak signal can hold an upload for minutes; the queue must not stand still behind it.
const UPLOAD_TIMEOUT_MS = 120_000;
const KEEP_STORED_MS = 24 * 3600_000;
// What the server keeps of a photo anyway; a phone's 12 MP photo shrinks to a few hundred KB.
const PHOTO_SIDE = 1600;
const PHOTO_QUALITY = 0.8;
const PHOTO_MAX_BYTES = 15 * 1024 * 1024;
const STATES = {
  waiting: 'ждёт сети', sending: 'отправляется', stored: 'сохранено', refused: 'отказ', confirm: 'нужно подтвердить',
};

// ---- The queue: one record per reading, under its key.

function inQueue(mode, work) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('obhod', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('queue', { keyPath: 'key' });
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('queue', mode);
      const request = work(tx.objectStore('queue'));
      tx.oncomplete = () => { db.close(); resolve(request.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error); };
    };
  });
}
const allItems = async () => (await inQueue('readonly', q => q.getAll())).sort((a, b) => a.takenAt < b.takenAt ? -1 : 1);
const putItem = item => inQueue('readwrite', q => q.put(item));
const dropItem = item => inQueue('readwrite', q => q.delete(item.key));

async function update(item, changes) {
  await putItem(Object.assign(item, changes));
  await render();
}

// ---- Taking a reading.

async function shrink(file) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch {
    return file; // a format this browser cannot draw (HEIC): the server names it
  }
  const scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement('canvas');
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  return await new Promise(resolve => canvas.toBlob(resolve, 'image/jpeg', PHOTO_QUALITY)) ?? file;
}

async function queuedReading(form) {
  const data = new FormData(form);
  const file = data.get('photo');
  if (!(file instanceof File) || file.size === 0) throw new Error('Прикрепите фото счётчика, на котором видны показания.');
  const photo = await shrink(file);
  if (photo.size > PHOTO_MAX_BYTES) throw new Error('Фото слишком большое: не больше 15 МБ.');
  const label = input => form.querySelector(`label[for="${input.id}"]`)?.textContent ?? '';
  return {
    key: crypto.randomUUID(), // never the server's key in the form: a kept form is filled many times
    staff: document.body.dataset.staff,
    action: form.action,
    plot: form.dataset.plot,
    meter: form.dataset.meter,
    values: [...form.querySelectorAll('input.value')].map(input => [label(input), input.value]),
    seal: data.get('seal'),
    comment: data.get('comment') ?? '',
    photo,
    takenAt: new Date().toISOString(),
    confirmed: false,
    state: 'waiting',
    message: '',
  };
}

// With a signal the reading is sent at once: the plot page then shows it stored, and a refusal
// is shown on the form still filled in. A slow upload goes on from the queue instead of holding
// the controller at the meter.
function takeOver(form) {
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    const say = (className, text) => {
      document.querySelectorAll('main > .flash.said').forEach(old => old.remove());
      form.before(el('p', { className: `flash said ${className}`, role: 'alert' }, text));
      button.disabled = false;
    };
    try {
      const queued = await queuedReading(form);
      await putItem(queued);
      await Promise.race([send(), new Promise(resolve => setTimeout(resolve, SEND_NOW_MS))]);
      const item = (await allItems()).find(other => other.key === queued.key) ?? queued;
      if (item.state === 'refused') return say('error', item.message);
      if (item.state === 'confirm') return say('warn', `${item.message} Подтвердите в очереди ниже или исправьте.`);
      const done = item.state === 'stored' ? item.message : `${item.plot}: показание в очереди, отправится при появлении сети.`;
      sessionStorage.setItem('obhod-flash', done);
      location.assign(form.dataset.back);
    } catch (e) {
      say('error', e.message);
    }
  });
}

// ---- Sending.

let sending = false;
let notice = null; // why the queue is not moving, when the controller can do something about it

// The server's word on this phone's session: its JSON while it stands, a redirect to the login
// form once it is over, null without a network.
const askSession = () => fetch('/m/session', {
  redirect: 'manual', cache: 'no-store', signal: AbortSignal.timeout(SESSION_TIMEOUT_MS),
}).catch(() => null);
const sessionOf = async response => response?.ok ? await response.json().catch(() => null) : null;

// The session to send in, or null: no network, or no login (then `notice` says so).
async function currentSession() {
  const response = await askSession();
  if (response?.type === 'opaqueredirect') {
    notice = 'Вход истёк: войдите снова, и очередь отправится.';
    return null;
  }
  return sessionOf(response);
}

// The server's verdict on an item, or null when it could not be had: the item waits.
async function post(item, csrf) {
  const body = new FormData();
  body.append('key', item.key);
  for (const [, value] of item.values) body.append('value', value);
  body.append('seal', item.seal);
  body.append('comment', item.comment);
  body.append('taken_at', item.takenAt);
  if (item.confirmed) body.append('confirmed', 'true');
  // After «Подтвердить» the photo the server already has is named, not uploaded again.
  if (item.photoId) body.append('photo_id', item.photoId);
  else if (item.photo) body.append('photo', item.photo, 'meter.jpg');
  let response;
  try {
    response = await fetch(item.action, {
      method: 'POST', body, redirect: 'manual', signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS),
      headers: { Accept: 'application/json', 'X-CSRF-Token': csrf },
    });
  } catch {
    return null;
  }
  if (!response.headers.get('Content-Type')?.startsWith('application/json')) {
    notice = `Сервер не принял отправку (код ${response.status}); попробуем ещё раз позже.`;
    return null;
  }
  // An answer cut off on the way is no verdict: the item goes again under its key.
  const answer = await response.json().catch(() => null);
  if (!answer) return null;
  // A photo is dropped from the phone once the server has answered for good.
  if (answer.outcome === 'stored') return { state: 'stored', message: answer.message, photo: null, sentAt: Date.now() };
  if (answer.outcome === 'confirm') return { state: 'confirm', message: answer.message, photoId: answer.photo_id ?? null };
  return { state: 'refused', message: answer.message, photo: null };
}

async function send() {
  // A phone that knows it has no network is not kept waiting on a request that cannot go.
  if (sending || !navigator.onLine) return;
  sending = true;
  try {
    // `sending` too: the page was closed while one was on its way; its key makes a retry safe.
    const due = (await allItems()).filter(item => item.state === 'waiting' || item.state === 'sending');
    if (due.length === 0) return;
    const session = await currentSession();
    if (!session) return;
    notice = null;
    for (const item of due) {
      if (item.staff !== String(session.staff_id)) {
        notice = 'Часть очереди снял другой сотрудник: она отправится, когда он войдёт на этом телефоне.';
        continue;
      }
      await update(item, { state: 'sending' });
      const verdict = await post(item, session.csrf_token);
      await update(item, verdict ?? { state: 'waiting' });
      if (!verdict) break;
    }
  } finally {
    sending = false;
    await render();
  }
}

// ---- Showing the queue.

function el(tag, props, ...children) {
  const element = Object.assign(document.createElement(tag), props);
  element.append(...children);
  return element;
}

function button(text, action) {
  const b = el('button', { type: 'button', className: 'secondary' }, text);
  b.addEventListener('click', action);
  return b;
}

const when = iso => new Date(iso).toLocaleString('ru-RU', { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit' });

function itemView(item) {
  const values = item.values.map(([label, value]) => `${label}: ${value}`).join('; ');
  const state = STATES[item.state] + (item.message && item.state !== 'stored' ? `: ${item.message}` : '');
  const li = el('li', { className: `item ${item.state}` },
    el('b', {}, item.plot), ` · ${item.meter}`, el('br'), `${values} · ${when(item.takenAt)}`,
    el('span', { className: 'state' }, state));
  if (item.state === 'confirm') {
    li.append(button('Подтвердить', () => update(item, { state: 'waiting', confirmed: true, message: '' }).then(send)));
  }
  if (['stored', 'refused', 'confirm'].includes(item.state)) {
    li.append(button('Убрать', () => dropItem(item).then(render)));
  }
  return li;
}

async function render() {
  const items = await allItems();
  const open = items.filter(item => item.state !== 'stored').length;
  const badge = document.getElementById('queue-badge');
  if (badge) {
    badge.textContent = `Очередь: ${open}`;
    badge.hidden = open === 0;
  }
  const section = document.getElementById('queue');
  if (!section) return;
  section.hidden = items.length === 0;
  const shown = section.querySelector('.notice');
  shown.textContent = notice ?? '';
  shown.hidden = !notice;
  section.querySelector('ul').replaceChildren(...items.map(itemView));
}

// ---- The page.

// A page the service worker served from the phone: say so, and from when.
function keptBanner() {
  const keptAt = document.documentElement.dataset.keptAt;
  if (keptAt === undefined) return;
  // The message of the visit that was kept is not news now.
  document.querySelectorAll('main > .flash[role=status]').forEach(flash => flash.remove());
  const time = Number(keptAt) ? new Date(Number(keptAt)).toLocaleTimeString('ru-RU', { hour: '2-digit', minute: '2-digit' }) : '?';
  document.querySelector('main').prepend(el('p', { className: 'flash warn kept' }, `Нет сети, данные от ${time}`));
}

// Set when «Выйти» is pressed: a page kept while the logout is on its way would stay on the phone.
let leaving = false;

async function keepForms() {
  const registration = await navigator.serviceWorker.ready;
  // On a first visit the worker may become ready only after «Выйти» was pressed.
  if (leaving) return;
  const forms = [...document.querySelectorAll('a[href$="/reading"]')].map(a => a.href);
  // This page too: the first one opened came before the service worker, which may have taken
  // it over since, and a page already kept is not fetched again.
  registration.active?.postMessage({ keep: [location.href, ...forms].filter(url => new URL(url).pathname.startsWith('/m/')) });
}

// Pages kept on the phone show consumers' debts: they leave with the controller. The session
// ends on the server first, so that any page fetched after it is the login form, never kept; then
// the worker forgets the kept pages and drops any it was still fetching. The queue stays.
async function logOut(button) {
  leaving = true;
  button.disabled = true;
  const ended = await endSession();
  (await navigator.serviceWorker.getRegistration())?.active?.postMessage({ forget: true });
  await caches.delete('obhod-pages');
  if (ended) return location.assign('/login');
  button.disabled = false;
  document.querySelectorAll('main > .flash.said').forEach(old => old.remove());
  const text = 'Выход не подтверждён: нет связи с сервером. Страницы обхода удалены с телефона, очередь показаний ' +
    'сохранена; нажмите «Выйти» ещё раз, когда будет сеть.';
  document.querySelector('main').prepend(el('p', { className: 'flash error said', role: 'alert' }, text));
}

// Whether the session is over on the server: ended now, or before. Under the session's own
// token, not the page's: a page kept from an earlier session carries that one's.
async function endSession() {
  const response = await askSession();
  if (response?.type === 'opaqueredirect') return true;
  const session = await sessionOf(response);
  if (!session) return false;
  const logout = await fetch('/logout', {
    method: 'POST', redirect: 'manual', headers: { 'X-CSRF-Token': session.csrf_token },
    signal: AbortSignal.timeout(SESSION_TIMEOUT_MS),
  }).catch(() => null);
  return logout?.type === 'opaqueredirect';
}

async function start() {
  if (!window.isSecureContext || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register('/m/sw.js', { scope: '/m/' });
  keptBanner();
  const flash = sessionStorage.getItem('obhod-flash');
  if (flash) {
    sessionStorage.removeItem('obhod-flash');
    document.querySelector('main').prepend(el('p', { className: 'flash ok', role: 'status' }, flash));
  }
  document.querySelectorAll('form.reading').forEach(takeOver);
  // First, not after the queue: a controller may move on to the next plot at once. Not awaited:
  // on the first visit the service worker is still installing.
  if (navigator.onLine) keepForms();
  document.querySelector('form[action="/logout"]')?.addEventListener('submit', event => {
    event.preventDefault();
    logOut(event.target.querySelector('button'));
  });
  const old = Date.now() - KEEP_STORED_MS;
  await Promise.all((await allItems()).filter(item => item.state === 'stored' && item.sentAt < old).map(dropItem));
  await render();
  addEventListener('online', send);
  setInterval(send, RETRY_MS);
  await send();
}

start();
