// VAULTEX service worker: keeps the app shell available offline. It never touches the
// relay's API (everything outside the shell passes through untouched) and stores no
// message data: messages live encrypted in IndexedDB.
const CACHE = 'vaultex-shell-v2';
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/icon.svg',
  '/icon-maskable.svg',
  '/icon-192.png',
  '/icon-512.png',
  '/icon-maskable-512.png',
];

// The hashed script and style index.html names (the build adds them; no list to maintain).
async function assetsOf(cache) {
  const index = await cache.match('/');
  if (!index) return [];
  const html = await index.text();
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
}

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then(async (cache) => {
        await cache.addAll(SHELL);
        await cache.addAll(await assetsOf(cache));
      })
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function isShell(url) {
  return url.origin === self.location.origin && (SHELL.includes(url.pathname) || url.pathname.startsWith('/assets/'));
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (request.mode === 'navigate') {
    // Network first so a new version is picked up; the cached shell when offline.
    event.respondWith(
      fetch(request)
        .then((response) => {
          const copy = response.clone();
          if (response.ok) {
            // A new version: keep its shell and assets for offline starts.
            caches.open(CACHE).then(async (c) => {
              await c.put('/', copy);
              await c.addAll(await assetsOf(c));
            });
          }
          return response;
        })
        .catch(() => caches.match('/')),
    );
    return;
  }
  if (!isShell(url)) return;
  // Hashed assets never change: cache first.
  event.respondWith(
    caches.match(request).then(
      (hit) =>
        hit ||
        fetch(request).then((response) => {
          const copy = response.clone();
          if (response.ok) caches.open(CACHE).then((c) => c.put(request, copy));
          return response;
        }),
    ),
  );
});
