/* The web frame player (templates/studio/frames/player.html; "The frame player" in
 * docs/frames.md). A frame like any other: it registers, shows its pairing code, polls its
 * playlist with the ETag, and keeps every video (or still) in Cache Storage under its SHA-256,
 * checked before it is kept, so it plays on without the network. Its service worker
 * (/frames/player/sw.js) keeps the page itself. The state is on <body> (data-state, data-items,
 * data-playing, data-code) and in window.framePlayer.status(), for people and tests. */
(() => {
  "use strict";

  const body = document.body;
  const config = body.dataset;
  const TOKEN_KEY = "petmemories-frame-token";
  const PLAYLIST_CACHE = "frame-playlist";
  const MEDIA_CACHE = "frame-media";
  // Cache keys, never fetched: under the player, named by what they hold.
  const base = new URL(config.workerUrl, location.href);
  const PLAYLIST_KEY = new URL("saved/playlist.json", base).href;
  const mediaKey = (sha256) => new URL("saved/media/" + sha256, base).href;
  const FADE_MS = 1500;
  // While its code is on screen someone is pairing it: it asks more often, to start at once.
  const PAIRING_POLL_SECONDS = 5;
  const BUSY_RETRY_SECONDS = 300; // registering was refused for too many from this address

  const slots = Array.from(document.querySelectorAll(".slot"));
  const pairing = document.querySelector(".pairing");
  const notice = document.querySelector(".notice");

  let playlist = null; // the last playlist the site sent (or the saved one, offline)
  let etag = null;
  const kept = new Set(); // the SHA-256 of each file kept, checked, in the media cache
  let current = null; // the item on screen
  let front = 0; // the slot showing it
  let itemTimer = null;
  let itemSeconds = 0; // how long the item on screen was given
  let pollTimer = null;
  let syncing = false;
  let online = true;
  let shown = 0; // counts show() calls, so a late one gives way to a newer one

  // --- Small helpers -------------------------------------------------------------------

  const token = () => localStorage.getItem(TOKEN_KEY);
  const kindOf = (item) => (item.kind === "still" || (item.content_type || "").startsWith("image/") ? "still" : "video");
  const secondsPerItem = () => Math.max(1, Number(playlist?.settings?.seconds_per_video) || 30);
  // An item is one entry of the playlist; two may share a file (and its SHA-256).
  const same = (one, other) => Boolean(one && other && one.id === other.id && one.sha256 === other.sha256);
  const playable = () => (playlist?.paired ? playlist.items.filter((item) => kept.has(item.sha256)) : []);

  function pollSeconds() {
    // ?poll=N in the page's address, within the site's bounds, overrides the API's advice.
    const min = Number(config.pollMin), max = Number(config.pollMax);
    const asked = Number(new URLSearchParams(location.search).get("poll"));
    if (Number.isFinite(asked) && asked >= min && asked <= max) return asked;
    return Math.min(Math.max(Number(playlist?.poll_seconds) || 60, min), max);
  }

  // A request that hangs (a Wi-Fi that drops mid-download) must not stop the polls for good.
  const within = (seconds) => (AbortSignal.timeout ? { signal: AbortSignal.timeout(seconds * 1000) } : {});
  const offline = (error) => error instanceof TypeError || error?.name === "TimeoutError";

  async function sha256Hex(bytes) {
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
  }

  function say(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function report(state) {
    body.dataset.state = state;
    body.dataset.items = playable().map((item) => item.id).join(",");
    body.dataset.playing = current ? current.id : "";
    body.dataset.online = online ? "yes" : "no";
  }

  // --- Registering and pairing ----------------------------------------------------------

  class Busy extends Error {}

  async function register() {
    const ratio = window.devicePixelRatio || 1;
    const side = (pixels) => Math.min(Math.max(Math.round(pixels * ratio), 64), 8192);
    const response = await fetch(config.registerUrl, {
      method: "POST", cache: "no-store", headers: { "Content-Type": "application/json" }, ...within(30),
      body: JSON.stringify({ name: config.name, screen_width: side(screen.width), screen_height: side(screen.height) }),
    });
    if (response.status === 429) throw new Busy();
    if (!response.ok) throw new Error("register: " + response.status);
    const answer = await response.json();
    localStorage.setItem(TOKEN_KEY, answer.token);
    showCode(answer.pairing_code);
  }

  function showCode(code) {
    stop();
    if (code && body.dataset.code !== code) {
      body.dataset.code = code;
      pairing.querySelector(".code").textContent = code;
      pairing.querySelector(".qr").src = config.qrUrl + "?code=" + encodeURIComponent(code);
    }
    pairing.hidden = false;
    say("");
    report("pairing");
  }

  /** The site forgot this frame (unpaired, or never paired in time): forget all it kept. */
  async function forget() {
    localStorage.removeItem(TOKEN_KEY);
    playlist = etag = null;
    stop();
    kept.clear();
    await Promise.all([caches.delete(PLAYLIST_CACHE), caches.delete(MEDIA_CACHE)]);
  }

  // --- The playlist and the files --------------------------------------------------------

  async function loadSaved() {
    const saved = await (await caches.open(PLAYLIST_CACHE)).match(PLAYLIST_KEY);
    if (!saved) return;
    playlist = await saved.json();
    etag = saved.headers.get("ETag") || null;
    const media = await caches.open(MEDIA_CACHE);
    for (const item of playlist.items || []) {
      if (await media.match(mediaKey(item.sha256))) kept.add(item.sha256);
    }
  }

  async function adopt(data, newEtag) {
    playlist = data;
    etag = newEtag;
    const headers = { "Content-Type": "application/json", ETag: newEtag || "" };
    await (await caches.open(PLAYLIST_CACHE)).put(PLAYLIST_KEY, new Response(JSON.stringify(data), { headers }));
    // Evict what left the playlist.
    const wanted = new Set((data.items || []).map((item) => item.sha256));
    const media = await caches.open(MEDIA_CACHE);
    for (const request of await media.keys()) {
      const sha256 = request.url.split("/").pop();
      if (!wanted.has(sha256)) {
        await media.delete(request);
        kept.delete(sha256); // on screen, it plays on from its blob: URL until replaced
      }
    }
  }

  /** Fetch, check and keep each file of the playlist not kept yet, one at a time. A network
   * error stops the round (the next poll, or the browser coming online, starts another); a
   * file that does not match its SHA-256 or size is dropped and fetched again next time. */
  async function download() {
    if (!playlist?.paired) return;
    const media = await caches.open(MEDIA_CACHE);
    for (const item of playlist.items) {
      if (!item.sha256 || kept.has(item.sha256)) continue;
      if (!(await media.match(mediaKey(item.sha256)))) {
        const response = await fetch(item.url, { cache: "no-store", ...within(600) });
        if (!response.ok) continue; // a link past its window: the next playlist brings new ones
        const bytes = await response.arrayBuffer();
        if ((item.bytes && bytes.byteLength !== item.bytes) || (await sha256Hex(bytes)) !== item.sha256) continue;
        const headers = { "Content-Type": item.content_type || "video/mp4" };
        await media.put(mediaKey(item.sha256), new Response(bytes, { headers }));
      }
      if (!playlist?.items.some((entry) => entry.sha256 === item.sha256)) {
        await media.delete(mediaKey(item.sha256)); // it left the playlist while it came
        continue;
      }
      kept.add(item.sha256);
      render();
    }
  }

  async function sync() {
    if (syncing) return;
    syncing = true;
    clearTimeout(pollTimer);
    let busy = false;
    try {
      if (!token()) await register();
      const headers = { Authorization: "Bearer " + token() };
      if (etag && playlist) headers["If-None-Match"] = etag;
      const response = await fetch(config.playlistUrl, { headers, cache: "no-store", ...within(30) });
      online = true;
      if (response.status === 401) {
        await forget();
        await register();
      } else if (response.status === 200) {
        await adopt(await response.json(), response.headers.get("ETag"));
      } else if (response.status !== 304) {
        throw new Error("playlist: " + response.status);
      }
      render();
      await download();
    } catch (error) {
      busy = error instanceof Busy;
      if (busy) say(config.textBusy);
      else if (offline(error)) online = false;
      else console.warn("frame player:", error);
      render();
    } finally {
      syncing = false;
      clearTimeout(pollTimer);
      const wait = busy ? BUSY_RETRY_SECONDS : pairing.hidden ? pollSeconds() : Math.min(pollSeconds(), PAIRING_POLL_SECONDS);
      pollTimer = setTimeout(sync, wait * 1000);
    }
  }

  // --- On screen -------------------------------------------------------------------------

  function render() {
    if (!playlist || !playlist.paired) {
      if (playlist?.pairing_code) showCode(playlist.pairing_code);
      if (!online) say(config.textOffline);
      report(!pairing.hidden ? "pairing" : online ? body.dataset.state : "offline");
      return;
    }
    pairing.hidden = true;
    const items = playable();
    if (!items.length) {
      stop();
      say(playlist.items.length ? (online ? config.textLoading : config.textOffline) : config.textNothing);
      report(playlist.items.length ? "loading" : "empty");
      return;
    }
    say("");
    if (!items.some((item) => same(item, current))) show(items[0]);
    else if (itemSeconds !== secondsPerItem()) schedule(); // the owner changed the time on screen
    report("playing");
  }

  function advance() {
    const items = playable();
    if (!items.length) return render();
    const at = items.findIndex((item) => same(item, current));
    if (at === items.length - 1 && playlist.settings && playlist.settings.loop === false) {
      // Played once through: the last one stays, and stops at its end.
      slots[front].querySelector("video").loop = false;
      return;
    }
    const following = items[(at + 1) % items.length];
    if (same(following, current)) return schedule(); // alone on the list: it plays on
    show(following);
  }

  /** Move on to the next item once this one's time on screen is over. */
  function schedule() {
    clearTimeout(itemTimer);
    itemSeconds = secondsPerItem();
    itemTimer = setTimeout(advance, itemSeconds * 1000);
  }

  function ready(element) {
    return new Promise((resolve) => {
      const done = () => resolve();
      setTimeout(done, 4000);
      if (element.tagName === "IMG") {
        element.decode().then(done, done);
      } else if (element.readyState >= 2) {
        done();
      } else {
        element.addEventListener("loadeddata", done, { once: true });
        element.addEventListener("error", done, { once: true });
      }
    });
  }

  /** A slow zoom and drift over a still's time on screen ("Ken Burns"), a different one each time. */
  function drift(img, seconds) {
    const near = "scale(1) translate(0, 0)";
    const far = `scale(1.12) translate(${(Math.random() * 6 - 3).toFixed(2)}%, ${(Math.random() * 6 - 3).toFixed(2)}%)`;
    const [from, to] = Math.random() < 0.5 ? [near, far] : [far, near];
    img.getAnimations().forEach((animation) => animation.cancel());
    img.animate([{ transform: from }, { transform: to }], { duration: (seconds * 1000) + FADE_MS * 2, easing: "ease-in-out", fill: "forwards" });
  }

  function clear(slot) {
    const video = slot.querySelector("video"), img = slot.querySelector("img");
    if (slot.dataset.url) URL.revokeObjectURL(slot.dataset.url);
    delete slot.dataset.url;
    video.pause();
    video.removeAttribute("src");
    video.load();
    img.getAnimations().forEach((animation) => animation.cancel());
    img.removeAttribute("src");
  }

  async function show(item) {
    const turn = ++shown;
    const previous = current;
    current = item;
    schedule();
    // Only the items on screen and coming in are in memory, as blob: URLs: <video> and <img>
    // play them whole, with no byte ranges to ask of anyone.
    const file = await caches.open(MEDIA_CACHE).then((media) => media.match(mediaKey(item.sha256)), () => undefined);
    if (turn !== shown) return;
    if (!file) {
      // The browser let it go (short of storage): it is fetched again with the next poll.
      kept.delete(item.sha256);
      current = previous;
      render();
      return;
    }
    const url = URL.createObjectURL(await file.blob());
    if (turn !== shown) return URL.revokeObjectURL(url);
    const back = slots[front].classList.contains("current") ? 1 - front : front;
    const slot = slots[back];
    const video = slot.querySelector("video"), img = slot.querySelector("img");
    const kind = kindOf(item);
    clear(slot);
    slot.dataset.url = url;
    slot.className = `slot ${kind} ${item.fit === "contain" ? "contain" : "cover"}`;
    if (kind === "video") {
      video.muted = true;
      video.loop = true; // it loops while its time on screen lasts
      video.src = url;
      video.play().catch(() => {});
      await ready(video);
    } else {
      img.src = url;
      await ready(img);
      drift(img, secondsPerItem());
    }
    if (turn !== shown) return;
    const old = slots[1 - back];
    slot.classList.add("current");
    if (back !== front) {
      old.classList.remove("current");
      front = back;
      setTimeout(() => {
        if (slots[front] !== old) clear(old);
      }, FADE_MS + 100);
    }
    report("playing");
  }

  function stop() {
    clearTimeout(itemTimer);
    current = null;
    shown++;
    for (const slot of slots) {
      slot.classList.remove("current");
      clear(slot);
    }
  }

  // --- Start -----------------------------------------------------------------------------

  async function stayAwake() {
    try {
      if ("wakeLock" in navigator && document.visibilityState === "visible") await navigator.wakeLock.request("screen");
    } catch (error) { /* not allowed here (no user gesture, low battery): the kiosk's settings must do */ }
  }

  async function start() {
    if (!("caches" in window) || !window.crypto?.subtle) {
      say(config.textUnsupported);
      report("unsupported");
      return;
    }
    if ("serviceWorker" in navigator) navigator.serviceWorker.register(config.workerUrl).catch((error) => console.warn("frame player:", error));
    if (navigator.storage?.persist) navigator.storage.persist().catch(() => {});
    stayAwake();
    document.addEventListener("visibilitychange", stayAwake);
    // A tablet's browser without a kiosk mode: a tap makes it full screen.
    document.addEventListener("pointerup", () => document.fullscreenElement || document.documentElement.requestFullscreen?.().catch(() => {}));
    window.addEventListener("online", () => sync());
    window.addEventListener("offline", () => { online = false; render(); });
    try {
      if (token()) await loadSaved();
    } catch (error) {
      console.warn("frame player:", error);
    }
    render();
    await sync();
  }

  window.framePlayer = {
    status: () => ({
      state: body.dataset.state, code: body.dataset.code || null, online, paired: Boolean(playlist?.paired),
      items: playable().map((item) => item.id), playing: current ? current.id : null, pollSeconds: pollSeconds(),
      controlled: Boolean(navigator.serviceWorker?.controller),
    }),
    sync,
  };

  start();
})();
