// The web frame player's service worker (studio/devices/player.py, served by a view so its
// scope is the player and browsers check it for updates on every visit). It keeps the
// player's page, script and style, fetched fresh while the network answers and served from
// here when it does not, so a frame that restarts offline still opens and plays. The playlist
// and the videos are kept by the page in the same origin's Cache Storage ("frame-playlist",
// "frame-media"), keyed by their SHA-256, never by their links, which change every few hours.
"use strict";

const SHELL = {{ shell|safe }}.map((path) => new URL(path, self.location.href).href);
const PAGE = SHELL[0];
const SHELL_CACHE = "frame-shell-" + {{ version|safe }};
// A network that is up but answers nothing (a captive Wi-Fi) must not keep the frame dark.
const NETWORK_WAIT_MS = 8000;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("frame-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const bare = url.origin + url.pathname;
  // The page, whatever its query (?poll=), is kept under one key; the API and media pass by.
  const key = request.mode === "navigate" && bare === PAGE ? PAGE : SHELL.includes(bare) ? bare : null;
  if (key !== null) event.respondWith(networkElseCache(request, key));
});

async function networkElseCache(request, key) {
  const cache = await caches.open(SHELL_CACHE);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), NETWORK_WAIT_MS);
  try {
    // A navigation's request cannot be re-made with options: fetch its address.
    const response = await fetch(request.url, { signal: abort.signal, credentials: "same-origin", cache: "no-cache" });
    if (response.ok && !response.redirected) await cache.put(key, response.clone());
    return response;
  } catch (error) {
    const kept = await cache.match(key);
    if (kept) return kept;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
