// Live grid player: hls.js per tile, the latest snapshot while the stream is not there yet.
// `VIGIL` ({token, retryMs}) is defined by the page that includes this script.
"use strict";

function withToken(url) {
  return url + (url.includes("?") ? "&" : "?") + "access_token=" + encodeURIComponent(VIGIL.token);
}

function note(tile, text) {
  const el = tile.querySelector(".note");
  el.textContent = text || "";
  el.hidden = !text;
}

function showSnapshot(tile) {
  const img = tile.querySelector("img");
  tile.querySelector("video").hidden = true;
  tile.dataset.mode = "snapshot";
  img.onload = () => { img.hidden = false; note(tile, ""); };
  img.onerror = () => {
    img.hidden = true;
    note(tile, "Waiting for the first picture from this camera…");
  };
  img.src = withToken(tile.dataset.snapshot) + "&t=" + Date.now();
}

function retryLater(tile) {
  showSnapshot(tile);
  setTimeout(() => play(tile), VIGIL.retryMs);
}

function playWithHlsJs(tile, video) {
  const hls = new Hls({
    xhrSetup: (xhr) => xhr.setRequestHeader("Authorization", "Bearer " + VIGIL.token),
    manifestLoadingMaxRetry: 1,
    backBufferLength: 30,
  });
  let recovered = false;
  video.dataset.player = "hls";
  hls.on(Hls.Events.MANIFEST_PARSED, () => video.play().catch(() => {}));
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recovered) {
      recovered = true;  // one decode hiccup is worth a recovery before giving up
      hls.recoverMediaError();
      return;
    }
    hls.destroy();
    delete video.dataset.player;
    if (data.response && data.response.code === 401) {
      video.hidden = true;
      note(tile, "Your session has expired: reload the page and log in again.");
      return;
    }
    retryLater(tile);
  });
  hls.loadSource(tile.dataset.live);
  hls.attachMedia(video);
}

function play(tile) {
  const video = tile.querySelector("video");
  if (window.Hls && Hls.isSupported()) {
    playWithHlsJs(tile, video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.dataset.player = "native";  // Safari: no headers, so the token rides in the URL
    video.onerror = () => retryLater(tile);
    video.src = withToken(tile.dataset.live);
  } else {
    showSnapshot(tile);
    note(tile, "This browser cannot play live video; showing snapshots.");
    setInterval(() => showSnapshot(tile), VIGIL.retryMs);
  }
}

for (const tile of document.querySelectorAll(".tile")) {
  const video = tile.querySelector("video");
  video.addEventListener("playing", () => {
    video.hidden = false;
    tile.querySelector("img").hidden = true;
    tile.dataset.mode = "live";
    note(tile, "");
  });
  play(tile);
}
