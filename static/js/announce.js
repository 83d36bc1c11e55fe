/* Speaks "请 A023 号到 7 号窗口" after a chime: the browser's own Chinese voice if it has one,
   else our clips from /static/audio (made by scripts/make_audio.py), so a screen with no
   internet and no speech engine still talks. Announcements queue up and never overlap. */
(function () {
  "use strict";
  const DIGITS = "零一二三四五六七八九";
  const STEP_LIMIT_MS = 8000; /* a clip that never ends must not silence every later call */
  const chain = [];
  const played = [];
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

  /* "chuangkou" says 号窗口, so the sequence reads 请 A零二三 号 到 七 号窗口. */
  function clips(call) {
    return ["qing", ...ticketWords(call.ticket), "hao", "dao", ...windowWords(call.window), "chuangkou"];
  }

  function chineseVoice() {
    if (!("speechSynthesis" in window)) return null;
    return speechSynthesis.getVoices().find((v) => /^(zh|cmn)([-_](CN|Hans))?/i.test(v.lang)) || null;
  }

  function playNext() {
    const next = chain.shift();
    if (!next) { playing = false; return; }
    playing = true;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      clearTimeout(guard);
      playNext();
    };
    const guard = setTimeout(done, STEP_LIMIT_MS);
    next(done);
  }

  function enqueue(step) {
    chain.push(step);
    if (!playing) playNext();
  }

  function playClip(name) {
    return (done) => {
      played.push(name);
      if (played.length > 100) played.shift();
      const audio = new Audio("/static/audio/" + name + ".wav");
      audio.onended = done;
      audio.onerror = done;
      audio.play().catch(done);
    };
  }

  function speak(text, voice) {
    return (done) => {
      played.push("speech:" + text);
      const utterance = new SpeechSynthesisUtterance(text);
      utterance.voice = voice;
      utterance.lang = voice.lang;
      utterance.rate = 0.9;
      utterance.onend = done;
      utterance.onerror = done;
      speechSynthesis.speak(utterance);
    };
  }

  function announce(call) {
    enqueue(playClip("chime"));
    const voice = chineseVoice();
    if (voice) {
      const spoken = call.ticket.split("").map((c) => (/[0-9]/.test(c) ? DIGITS[c] : c)).join(" ");
      enqueue(speak("请 " + spoken + " 号，到 " + call.window + " 号窗口", voice));
    } else {
      for (const clip of clips(call)) enqueue(playClip(clip));
    }
  }

  /* Browsers allow sound only after a gesture unless the screen's browser is set to autoplay
     (kiosk Chromium: --autoplay-policy=no-user-gesture-required). Resolves true if sound works. */
  function probe() {
    const audio = new Audio("/static/audio/chime.wav");
    audio.volume = 0;
    return audio.play().then(() => { audio.pause(); return true; }, () => false);
  }

  window.HallAnnounce = { announce, clips, probe, played };
})();
