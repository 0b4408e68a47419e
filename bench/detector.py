"""Measure the detector of personal data (app.redaction.find_identity) on the sentence tables of
tests/unit/test_identity_detector.py, against jieba's part-of-speech tagger alone.

    .venv/bin/python bench/detector.py

For the names: recall (sentences of FOUND whose name is found) and false positives (CLEAN
sentences where something is taken for a name), once for jieba.posseg alone (any nr/nrfg/nrt word
over the name) and once for the detector (jieba checked by rules, plus the rules of its own). Then
the detector's recall per kind over all of FOUND, its false positives over CLEAN, the attacker's
spellings (ATTACK) and the canary's known parties in any spelling found, the false positives on
official text with separators (CLEAN_SEPARATED), and its speed.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.redaction import Found, _tokens, find_identity  # noqa: E402
from tests.unit.test_identity_detector import (  # noqa: E402
    ATTACK,
    CANARY,
    CLEAN,
    CLEAN_SEPARATED,
    FOUND,
    FOUND_FOR_THE_CANARY,
    covers,
)

PERSON = {"nr", "nrfg", "nrt"}


def jieba_names(sentence: str) -> list[tuple[int, int]]:
    return [(t.start, t.end) for t in _tokens(sentence) if t.flag in PERSON]


def main() -> None:
    names = [(s, piece) for s, kind, piece in FOUND if kind == Found.NAME]

    def overlaps(span, sentence, piece):
        start = sentence.index(piece)
        return span[0] < start + len(piece) and start < span[1]

    jieba_hits = sum(any(overlaps(sp, s, p) for sp in jieba_names(s)) for s, p in names)
    jieba_exact = sum(any(s[a:b] == p for a, b in jieba_names(s)) for s, p in names)
    jieba_fp = sum(bool(jieba_names(s)) for s in CLEAN)
    ours = [[f for f in find_identity(s) if f.kind == Found.NAME] for s, _ in names]
    our_hits = sum(any(covers(f, s, p) for f in found) for (s, p), found in zip(names, ours, strict=True))
    our_exact = sum(any(f.text == p for f in found) for (_, p), found in zip(names, ours, strict=True))
    our_fp = sum(any(f.kind == Found.NAME for f in find_identity(s)) for s in CLEAN)
    n, clean = len(names), len(CLEAN)
    print(f"names: {n} sentences, {clean} clean sentences")
    print(
        f"  jieba.posseg alone: found {jieba_hits}/{n} (exact {jieba_exact}), "
        f"false positives {jieba_fp}/{clean}"
    )
    print(f"  detector:           found {our_hits}/{n} (exact {our_exact}), false positives {our_fp}/{clean}")

    total, hit = Counter(), Counter()
    for sentence, kind, piece in FOUND:
        total[kind] += 1
        hit[kind] += any(f.kind == kind and covers(f, sentence, piece) for f in find_identity(sentence))
    print("recall by kind: " + ", ".join(f"{k.value} {hit[k]}/{total[k]}" for k in total))
    fp = [s for s in CLEAN if find_identity(s)]
    print(f"false positives (any kind): {len(fp)}/{len(CLEAN)}")

    # the attacker's spellings (no known parties), the canary's parties in any spelling
    attack = sum(any(f.kind == k and covers(f, s, p) for f in find_identity(s)) for s, k, p in ATTACK)
    print(f"attacker's spellings: found {attack}/{len(ATTACK)}")
    canary = sum(
        any(f.kind == k and f.text == p for f in find_identity(s, CANARY)) for s, k, p in FOUND_FOR_THE_CANARY
    )
    print(f"known parties in any spelling: found {canary}/{len(FOUND_FOR_THE_CANARY)}")
    fp = [s for s in CLEAN_SEPARATED if find_identity(s)]
    print(f"false positives on official text with separators: {len(fp)}/{len(CLEAN_SEPARATED)}")

    text = "".join(s for s, _, _ in FOUND) * 3
    _tokens.cache_clear()
    find_identity("张建国", CANARY)  # jieba, zhconv and pypinyin loaded
    start = time.perf_counter()
    find_identity(text)
    elapsed = time.perf_counter() - start
    rate = len(text) / elapsed / 1000
    print(f"speed: {len(text)} characters in {elapsed * 1000:.0f} ms ({rate:.0f}k characters/s)")


if __name__ == "__main__":
    main()
