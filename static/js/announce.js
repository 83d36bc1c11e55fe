/* Speaks "请 A023 号到 7 号窗口": browser speech if it has a Chinese voice, else our own clips. */
(function () {
  "use strict";
  const chain = [];
  let playing = false;

  function windowWords(n) {
    /* 7 → 七, 10 → 十, 24 → 二十四: window numbers are read as numbers. */
    if (n < 10) return ["d" + n];
    const tens = Math.floor(n / 10), ones = n % 10;
    const words = tens === 1 ? ["shi"] : ["d" + tens, "shi"];
    if (n >= 100) return String(n).split("").map((d) => "d" + d);
    if (ones) words.push("d" + ones);
    return words;
  }

  function ticketWords(ticket) {
    /* Ticket numbers are read digit by digit: A023 → A 零 二 三. */
    return ticket.split("").map((c) => (/[0-9]/.test(c) ? "d" + c : "l" + c.toUpperCase()));
  }

  function clips(call) {
    return ["chime", "qing", ...ticketWords(call.ticket), "hao", "dao", ...windowWords(call.window), "chuangkou"];
  }

  function chineseVoice() {
    if (!("speechSynthesis" in window)) return null;
    return speechSynthesis.getVoices().find((v) => /^zh(-|_)?CN/i.test(v.lang) || v.lang === "zh") || null;
  }

  function playNext() {
    const next = chain.shift();
    if (!next) { playing = false; return; }
    playing = true;
    next(playNext);
  }

  function enqueue(step) {
    chain.push(step);
    if (!playing) playNext();
  }

  function playClip(name) {
    return (done) => {
      const audio = new Audio("/static/audio/" + name + ".wav");
      audio.onended = done;
      audio.onerror = done;
      audio.play().catch(done);
    };
  }

  function announce(call) {
    const voice = chineseVoice();
    if (voice) {
      enqueue(playClip("chime"));
      const text = "请 " + call.ticket.split("").join(" ") + " 号到 " + call.window + " 号窗口";
      enqueue((done) => {
        const utterance = new SpeechSynthesisUtterance(text);
        utterance.voice = voice;
        utterance.lang = voice.lang;
        utterance.rate = 0.9;
        utterance.onend = done;
        utterance.onerror = done;
        speechSynthesis.speak(utterance);
      });
    } else {
      for (const clip of clips(call)) enqueue(playClip(clip));
    }
  }

  window.HallAnnounce = { announce, clips };
})();
