"""Make the call screen's announcement clips (static/audio/), so calls are spoken offline.

Speech comes from Debian's espeak-ng, squeezed by sox to 16 kHz mono; the
chime is a two-tone sine written here. Run once when the clip set changes;
the clips are committed (and come out byte-identical on a re-run).

The voice is ``cmn-latn-pinyin``, not plain ``cmn``: espeak-ng 1.51 looks a
character up as tone-numbered pinyin, and the plain voice reads Latin text as
English, so 请 (qing3) came out as English "king three". Every word is
checked before it is recorded, so a voice that falls back to English fails
the run instead of shipping a wrong clip.

    python scripts/make_audio.py
"""

from __future__ import annotations

import math
import shutil
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "audio"
RATE = 16000
VOICE = "cmn-latn-pinyin"

WORDS = {
    "qing": "请",
    "hao": "号",
    "dao": "到",
    "chuangkou": "号窗口",
    **{f"d{i}": ch for i, ch in enumerate("零一二三四五六七八九")},
    "shi": "十",
    **{f"l{c}": c for c in "ABCDEFGHJKLMNPQRSTUVWXYZ"},
}


def phonemes(text: str) -> str:
    return subprocess.run(["espeak-ng", "-v", VOICE, "-q", "-x", text],
                          check=True, capture_output=True, text=True).stdout.strip()


def speak(text: str, target: Path) -> None:
    heard = phonemes(text)
    if "(en)" in heard:
        raise SystemExit(f"espeak-ng would read {text!r} as English ({heard}); not recording it")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", VOICE, "-s", "150", "-w", str(raw), text], check=True)
        # -R: repeatable dither, so re-running the script leaves committed clips unchanged;
        # trim silence at both ends (clips are played back to back), normalise to -1 dBFS.
        subprocess.run(
            ["sox", "-R", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(target),
             "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
             "gain", "-n", "-1"],
            check=True,
        )


def chime(target: Path) -> None:
    """Two soft tones (E5 then C5) with a decaying envelope: the hall's call chime."""
    frames = bytearray()
    for freq, seconds in ((659.25, 0.45), (523.25, 0.7)):
        count = int(RATE * seconds)
        for n in range(count):
            envelope = math.exp(-3.5 * n / count) * min(1.0, n / (RATE * 0.01))
            sample = 0.45 * envelope * math.sin(2 * math.pi * freq * n / RATE)
            frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(target), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


def main() -> None:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed: apt-get install espeak-ng sox")
    OUT.mkdir(parents=True, exist_ok=True)
    chime(OUT / "chime.wav")
    for name, text in WORDS.items():
        speak(text, OUT / f"{name}.wav")
    total = sum(p.stat().st_size for p in OUT.glob("*.wav"))
    print(f"{len(WORDS) + 1} clips, {total / 1024:.0f} KiB in {OUT}")


if __name__ == "__main__":
    main()
