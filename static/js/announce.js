/* Speaks "请 A023 号到 7 号窗口" after a chime: the browser's own Chinese voice if it has one,
   else our clips from /static/audio (made by scripts/make_audio.py), so a screen with no
   internet and no speech engine still talks. Announcements never overlap, and the queue
   stays short: a ticket called again replaces its announcement still waiting, at most
   BACKLOG wait (the oldest is dropped: it is still on the screen), and an announcement that
   had to wait, or has others waiting, uses the short phrase "A023 到 7 号窗口" (no chime). `spoken(call)` runs only when every part of
   the announcement really played to its end; a dropped or failed one is never reported. */
(function () {
  "use strict";
  const DIGITS = "零一二三四五六七八九";
  const STEP_LIMIT_MS = 8000; /* a clip that never ends must not silence every later call */
  const BACKLOG = 2;
  const waiting = []; /* {call, spoken} not started yet, oldest first */
  const played = [];
  const dropped = [];
  let playing = false;

  function windowWords(n) {
    /* Window numbers are read as numbers: 7 → 七, 10 → 十, 24 → 二十四; 100 and up digit by digit. */
    if (n >= 100) return String(n).split("").map((d) => "d" + d);
    if (n < 10) return ["d" + n];
    const tens = Math.floor(n / 10), ones = n % 10;
    const words = tens === 1 ? ["shi"] : ["d" + tens, "shi"];
    if (ones) words.push("d" + ones);
    return words;
  }

  function ticketWords(ticket) {
    /* Ticket numbers are read letter and digit by digit: A023 → A 零 二 三. */
    return ticket.split("").map((c) => (/[0-9]/.test(c) ? "d" + c : "l" + c.toUpperCase()));
  }

  /* "chuangkou" says 号窗口, so the sequence reads 请 A零二三 号 到 七 号窗口; short: A零二三 到 七 号窗口. */
  function clips(call, short) {
    if (short) return [...ticketWords(call.ticket), "dao", ...windowWords(call.window), "chuangkou"];
    return ["qing", ...ticketWords(call.ticket), "hao", "dao", ...windowWords(call.window), "chuangkou"];
  }

  function chineseVoice() {
    if (!("speechSynthesis" in window)) return null;
    return speechSynthesis.getVoices().find((v) => /^(zh|cmn)([-_](CN|Hans))?/i.test(v.lang)) || null;
  }

  function note(name) {
    played.push(name);
    if (played.length > 100) played.shift();
  }

  /* One step: calls done(true) when it played to its end, done(false) on error or time-out. */
  /* One element per clip, loaded once: back-to-back clips start without a fetch between them. */
  const elements = new Map();
  function clip(name) {
    if (!elements.has(name)) {
      const audio = new Audio(window.Hall.url("/static/audio/" + name + ".wav"));
      audio.preload = "auto";
      elements.set(name, audio);
    }
    return elements.get(name);
  }

  function playClip(name) {
    return (done) => {
      note(name);
      const audio = clip(name);
      audio.onended = () => done(true);
      audio.onerror = () => done(false);
      audio.currentTime = 0;
      audio.play().catch(() => done(false));
    };
  }

  function speak(text, voice) {
    return (done) => {
      note("speech:" + text);
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      utterance.rate = 0.9;
      utterance.onend = () => done(true);
      utterance.onerror = () => done(false);
      speechSynthesis.speak(utterance);
    };
  }

  function steps(call, short) {
    const voice = chineseVoice();
    const list = short ? [] : [playClip("chime")];
    if (voice) {
      const spoken = call.ticket.split("").map((c) => (/[0-9]/.test(c) ? DIGITS[c] : c)).join(" ");
      list.push(speak(short ? spoken + "，到 " + call.window + " 号窗口"
        : "请 " + spoken + " 号，到 " + call.window + " 号窗口", voice));
    } else {
      list.push(...clips(call, short).map(playClip));
    }
    return list;
  }

  function runSteps(list, finished) {
    let ok = true;
    const next = (i) => {
      if (i >= list.length) { finished(ok); return; }
      let over = false;
      const done = (good) => {
        if (over) return;
        over = true;
        clearTimeout(guard);
        ok = ok && good;
        next(i + 1);
      };
      const guard = setTimeout(() => done(false), STEP_LIMIT_MS);
      list[i](done);
    };
    next(0);
  }

  function playNext() {
    const item = waiting.shift();
    if (!item) { playing = false; return; }
    playing = true;
    runSteps(steps(item.call, item.short || waiting.length > 0), (ok) => {
      if (ok && item.spoken) item.spoken(item.call);
      playNext();
    });
  }

  /* Queue `call`; `spoken(call)` once it has really been heard in the hall. */
  function announce(call, spoken) {
    for (let i = waiting.length - 1; i >= 0; i--) {
      if (waiting[i].call.ticket === call.ticket) dropped.push(waiting.splice(i, 1)[0].call);
    }
    waiting.push({ call, spoken, short: playing }); /* queued behind another: a busy moment */
    while (waiting.length > BACKLOG) dropped.push(waiting.shift().call);
    if (!playing) playNext();
  }

  /* Browsers allow sound only after a gesture unless the screen's browser is set to autoplay
     (kiosk Chromium: --autoplay-policy=no-user-gesture-required). Resolves true if sound works. */
  function probe() {
    const audio = new Audio(window.Hall.url("/static/audio/chime.wav"));
    audio.volume = 0;
    return audio.play().then(() => { audio.pause(); return true; }, () => false);
  }

  window.HallAnnounce = { announce, clips, probe, played, dropped, BACKLOG };
})();
