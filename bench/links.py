"""Benchmark: the links detector and supervision sampling (issue 11, detectors 3 and 5), one core.

Pure functions, no database: 100,000 short chat messages (English, Portuguese, Spanish and
Hinglish phrasing, emojis) in batches of 500, as the scoring pipeline calls the detectors:

1. without links (the common case: the cost is the scan for a link);
2. with a link in 8% of messages, as chats carry them: mostly the same few hosts (the banks'
   sites, wa.me, shorteners, documents) with varying paths, a few phishing look-alikes;
3. a link in every message, each with a host never seen before (the caches cannot help: the
   worst case, and the cost of a first scan of a flood of new links).

Each scenario runs 5 times with the detector's caches emptied first (so every run pays for its
own misses) and reports the median; the baseline, measured in the same run, is finding the links
alone (`links.extract`). Last, supervision sampling: draws per second at 2%.

Run: .venv/bin/python bench/links.py   (or make bench). Figures: docs/benchmarks.md
("Detection: links").
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policies.detectors import links, sampling

MESSAGES = 100_000
BATCH = 500
RUNS = 5

PHRASES = [
    "bom dia! tudo certo pra reunião das 10h?",
    "Can you send me the Q3 numbers before the call?",
    "ok, obrigado 👍",
    "vale, te escribo mañana con los detalles del fondo",
    "kal tak report bhej dena please, boss ne pucha tha",
    "the client wants to rebalance, 60/40 maybe. thoughts?",
    "Segue o extrato atualizado. Qualquer dúvida me chama.",
    "lol yes 😂 see you at 5.30",
    "Precisamos revisar o contrato v2.1 antes de sexta.",
    "haan theek hai, main 3 baje call karta hoon",
    "Thanks! Received the signed form.",
    "¿Puedes confirmar la transferencia de hoy?",
]
COMMON_LINKS = [
    "https://www.itau.com.br/investimentos/{n}",
    "https://www.hdfcbank.com/personal/save/{n}",
    "https://docs.google.com/document/d/{n}/edit",
    "wa.me/55119{n:08d}",
    "https://bit.ly/3x{n}",
    "https://zoom.us/j/{n}",
    "https://www.youtube.com/watch?v={n}",
    "https://www.bloomberg.com/news/articles/{n}",
    "t.me/joinchat/{n}",
    "www.santander.com.br/conta/{n}",
]
PHISHING_LINKS = [
    "http://paypal.com.secure-update.xyz/verify/{n}",
    "https://itau-atualizacao.top/conta/{n}",
    "https://paypa1.com/webscr?cmd=login&id={n}",
    "https://xn--pypal-4ve.com/signin/{n}",
    "http://192.168.{a}.{b}/bradesco/login",
]


def chat(rng: random.Random, count: int, link_share: float, unique_hosts: bool) -> list[str]:
    texts = []
    for n in range(count):
        text = rng.choice(PHRASES)
        if rng.random() < link_share:
            if unique_hosts:
                link = f"https://{rng.choice(['portal', 'acesso', 'shop', 'news'])}-{n}.com/p/{n}"
            elif rng.random() < 0.05:
                link = rng.choice(PHISHING_LINKS).format(n=n, a=n % 250, b=(n // 250) % 250)
            else:
                link = rng.choice(COMMON_LINKS).format(n=rng.randrange(10**6))
            text = f"{text} {link}" if rng.random() < 0.5 else f"{link} {text}"
        texts.append(text)
    return texts


def per_second(work: Callable[[Sequence[str]], object], texts: list[str]) -> tuple[float, float]:
    """Median messages/s over RUNS runs, in batches of BATCH, caches emptied before each run:
    per second of wall time, and per second of this process's CPU time (what one core does
    when it is not shared; the machine is shared with other sessions)."""
    wall, cpu = [], []
    for _ in range(RUNS):
        links.clear_caches()
        started, started_cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(texts), BATCH):
            work(texts[start : start + BATCH])
        wall.append(len(texts) / (time.perf_counter() - started))
        cpu.append(len(texts) / (time.process_time() - started_cpu))
    return statistics.median(wall), statistics.median(cpu)


def extract_only(batch: Sequence[str]) -> object:
    return [links.extract(text) for text in batch]


def main() -> None:
    rng = random.Random(11)  # noqa: S311 - repeatable test data, not a secret
    links.detect(["warm up https://paypa1.com/login"])  # loads the suffix list and brand data
    scenarios = [
        ("no links", chat(rng, MESSAGES, 0.0, unique_hosts=False)),
        ("8% with links, hosts as chats repeat them", chat(rng, MESSAGES, 0.08, False)),
        ("a link in every message, every host new", chat(rng, MESSAGES // 10, 1.0, True)),
    ]
    print(f"links detector, one core, batches of {BATCH}, median of {RUNS} (caches emptied)")
    print("msg/s per second of wall time / per second of CPU time")
    print(f"{'messages':<44} {'detect msg/s':>17} {'extract only msg/s':>19} {'findings':>9}")
    for name, texts in scenarios:
        detected, detected_cpu = per_second(links.detect, texts)
        extracted, extracted_cpu = per_second(extract_only, texts)
        findings = sum(len(found) for found in links.detect(texts))
        print(
            f"{name:<44} {detected:>8,.0f} /{detected_cpu:>7,.0f}"
            f" {extracted:>10,.0f} /{extracted_cpu:>7,.0f} {findings:>9,}"
        )

    keys = [(n % 200, f"wamid.{n}") for n in range(MESSAGES)]
    rates, cpu_rates = [], []
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(keys), BATCH):
            sampling.detect(keys[start : start + BATCH], seed="bench-policy-seed", rate=0.02)
        rates.append(len(keys) / (time.perf_counter() - started))
        cpu_rates.append(len(keys) / (time.process_time() - started_cpu))
    taken = sum(bool(found) for found in sampling.detect(keys, seed="bench-seed", rate=0.02))
    print(
        f"supervision sampling at 2%: {statistics.median(rates):,.0f} /"
        f" {statistics.median(cpu_rates):,.0f} msg/s (median of {RUNS}),"
        f" {taken:,} of {len(keys):,} sampled ({taken / len(keys):.2%})"
    )


if __name__ == "__main__":
    main()
