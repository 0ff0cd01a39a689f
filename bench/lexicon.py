"""Benchmark: lexicon rules (issue 11, detector 1; policies/detectors/normalize.py and lexicon.py).

500 terms (the seed lexicons' own words and phrases, topped up with multi-word filler phrases;
one in ten a wildcard) as 50 rules, over 100,000 short chat messages (English, Portuguese,
Spanish, Hinglish; accents, emoji, numbers, typos; about 2% carry a term), on one core:

1. baseline, in the same run: one big `re` alternation of the same 500 terms (`\\b(?:...)\\b`,
   wildcards as `\\w*`) with `findall` over the lower-cased message: what a plain Python rule
   engine does (issue 11 measured 57 k msg/s for it);
2. the raw engine: pyahocorasick over the lower-cased message, no boundaries, no rules (a floor);
3. `normalize` alone (what every detector shares);
4. `normalize` + `match` with the 500-term document;
5. `normalize` + `match` with the seed lexicons (35 rules with proximity, exclusions, negation),
   and the share of messages it flags (the ordinary chat carries no seeded risk, so this is the
   false-alarm rate on it);
6. compile time of both documents, and a cache hit.

Each figure is the median of --runs runs (default 3), messages per CPU second of the process
(pinned to one CPU when the platform allows it): CPU time, because the machine is shared and wall
time would measure the neighbours.

Run: ``.venv/bin/python bench/lexicon.py [--messages 100000] [--runs 3]`` (pure Python: no
database, no Django). Figures: docs/benchmarks.md ("Detection: lexicon").
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import ahocorasick

from policies.detectors.lexicon import compile_lexicon, match, seed_lexicon
from policies.detectors.normalize import normalize

TERMS = 500
RULES = 50

OPENERS = [
    "Hi",
    "Bom dia",
    "Hola",
    "bhai",
    "Oi",
    "Buenas",
    "Hey",
    "ok",
    "Olá",
    "Good morning",
    "yaar",
]
BODIES = [
    "can you send me the report by 5pm?",
    "the meeting moved to tomorrow at 10am",
    "segue o relatório de ontem, qualquer dúvida me avisa",
    "as ações da Petrobras subiram 2,3% hoje",
    "la operación está lista, te llamo mañana",
    "¿recibiste el contrato firmado?",
    "kal meeting hai kya? confirm karo",
    "portfolio review done, see slide 4 for the fees",
    "transferência de R$ 1.500,00 agendada para 12/05",
    "invoice INV-2024-0012 paid, thanks",
    "can we move the call to Thursday",
    "vamos marcar um café semana que vem?",
    "el cliente pidió el extracto de octubre",
    "market was volatile today, nothing to do",
    "plz chk the attachment & revert",
    "obrigado pela ajuda com o cadastro",
    "gracias, lo reviso y te confirmo",
    "payment ho gaya, receipt bhej diya",
]
CLOSERS = ["", " 👍", " 😀", " thanks", " abs", " saludos", " 🙏🏽", "!!", " ok?", " tks"]
RISKY = [
    "guaranteed returns of 12% a year",
    "let's move this to Signal",
    "keep this between us",
    "retorno garantido de 2% ao mês",
    "me chama no Telegram",
    "tengo información privilegiada",
    "kisi ko mat batana",
    "returns are not guaranteed",
    "pls delete this chat",
    "I want to file a complaint",
]
FILLER = [
    "account",
    "adviser",
    "balance",
    "bond",
    "broker",
    "client",
    "deposit",
    "equity",
    "fund",
    "hedge",
    "index",
    "ledger",
    "margin",
    "option",
    "payout",
    "quote",
    "rating",
    "share",
    "stock",
    "trade",
    "wallet",
    "yield",
    "conta",
    "saldo",
    "ação",
    "fundo",
    "cliente",
    "cuenta",
    "acción",
    "fondo",
    "paisa",
    "khata",
]


def messages(count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        body = rng.choice(RISKY) if rng.random() < 0.02 else rng.choice(BODIES)
        text = f"{rng.choice(OPENERS)}, {body}{rng.choice(CLOSERS)}"
        if rng.random() < 0.1:  # a typo: a doubled or dropped letter
            at = rng.randrange(len(text))
            text = text[:at] + text[at] * rng.choice((0, 2)) + text[at + 1 :]
        out.append(text)
    return out


def seed_terms() -> list[str]:
    """The seed lexicons' plain terms (proximity clauses' words too), in file order."""
    terms: list[str] = []
    for rule in seed_lexicon()["rules"]:
        for item in rule.get("any", []) + rule.get("all", []):
            if isinstance(item, str):
                terms.append(item)
            else:
                terms.extend(item["terms"] + item["near"])
    return list(dict.fromkeys(terms))


def bench_terms(rng: random.Random) -> list[str]:
    terms = seed_terms()[: TERMS // 2]
    while len(terms) < TERMS:
        phrase = " ".join(rng.sample(FILLER, rng.choice((1, 2, 2, 3))))
        if rng.random() < 0.1:
            phrase += "*"
        if phrase not in terms:
            terms.append(phrase)
    return terms


def document_of(terms: list[str]) -> dict[str, Any]:
    size = len(terms) // RULES
    return {
        "rules": [
            {"name": f"Rule {n}", "category": "bench", "any": terms[n * size : (n + 1) * size]}
            for n in range(RULES)
        ]
    }


def regex_baseline(terms: list[str]) -> re.Pattern[str]:
    alternatives = sorted(
        (re.escape(term.rstrip("*")) + (r"\w*" if term.endswith("*") else "") for term in terms),
        key=len,
        reverse=True,
    )
    # The messages are lower-cased before the search (as the reference measurement did), so no
    # IGNORECASE, which would slow `re` down further.
    return re.compile(r"\b(?:" + "|".join(alternatives).lower() + r")\b")


def rate(function: Callable[[], object], count: int, runs: int) -> float:
    """Median messages per CPU second of this (single-threaded) process.

    CPU time, not wall time: the machine is shared, and wall time measures the neighbours.
    """
    rates = []
    for _ in range(runs):
        started = time.process_time()
        function()
        rates.append(count / (time.process_time() - started))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        cpu = max(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        print(f"pinned to CPU {cpu}; load average {os.getloadavg()[0]:.1f}")
    rng = random.Random(11)  # noqa: S311 (reproducible data, not secrets)
    texts = messages(args.messages, rng)
    terms = bench_terms(rng)
    count = len(texts)
    mean_length = sum(map(len, texts)) / count
    multi_word = sum(1 for term in terms if " " in term.strip())
    print(
        f"{count:,} messages (mean {mean_length:.1f} characters); {len(terms)} terms "
        f"({multi_word} multi-word, {sum(t.endswith('*') for t in terms)} wildcards) "
        f"in {RULES} rules"
    )

    started = time.perf_counter()
    document = document_of(terms)
    compiled = compile_lexicon(document)
    compile_500 = time.perf_counter() - started
    started = time.perf_counter()
    seeds = compile_lexicon(seed_lexicon())
    compile_seeds = time.perf_counter() - started
    started = time.perf_counter()
    compile_lexicon(document_of(terms))
    cache_hit = time.perf_counter() - started

    pattern = regex_baseline(terms)
    automaton = ahocorasick.Automaton()
    for index, term in enumerate(terms):
        automaton.add_word(term.rstrip("*").lower(), index)
    automaton.make_automaton()
    normalized = [normalize(text) for text in texts]

    figures = [
        ("baseline: one `re` alternation, findall", rate(
            lambda: [pattern.findall(text.lower()) for text in texts], count, args.runs)),
        ("raw pyahocorasick, no boundaries or rules", rate(
            lambda: [list(automaton.iter(text.lower())) for text in texts], count, args.runs)),
        ("normalize alone", rate(
            lambda: [normalize(text) for text in texts], count, args.runs)),
        ("match alone (500 terms, normalized once)", rate(
            lambda: match(compiled, texts, normalized=normalized), count, args.runs)),
        ("normalize + match, 500 terms", rate(
            lambda: match(compiled, texts), count, args.runs)),
        ("normalize + match, seed lexicons", rate(
            lambda: match(seeds, texts), count, args.runs)),
    ]  # fmt: skip
    width = max(len(name) for name, _ in figures)
    for name, value in figures:
        print(f"  {name:<{width}}  {value:>12,.0f} msg/s")
    flagged = sum(1 for found in match(seeds, texts) if found)
    baseline_hits = sum(1 for text in texts if pattern.search(text.lower()))
    ours = sum(1 for found in match(compiled, texts) if found)
    print(
        f"messages flagged: seed lexicons {flagged:,} ({flagged / count:.2%}; "
        f"{sum(any(r in t for r in RISKY) for t in texts):,} carry one of the risky sentences); "
        f"500 terms {ours:,}, "
        f"re baseline {baseline_hits:,}"
    )
    print(
        f"compile: 500 terms {compile_500 * 1000:.0f} ms, seed lexicons "
        f"{compile_seeds * 1000:.0f} ms ({len(seeds.terms)} terms), cache hit "
        f"{cache_hit * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
