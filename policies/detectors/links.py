"""Links in chat messages: where they lead, how risky they look, and which leave the channel.

`detect(texts, allow=..., deny=...)` finds the links in each text (with or without a scheme,
`www.` or bare domains, trailing punctuation and brackets trimmed, Unicode domains), and returns:

* a `malicious_link` finding for a link with phishing signs: a look-alike of a known brand's domain
  (look-alike characters, digits for letters, one typo, the brand's name on someone else's domain),
  an IP address instead of a name, a name before an '@' that hides the real host, a shortener,
  a risky top-level domain, free hosting, a log-in or "verify" path, many sub-domains, a download
  of a program. The score ranks links for review (it is not a probability): see DEFAULT_THRESHOLD.
* an `off_channel` finding for a link that opens a chat in another messenger (t.me, wa.me,
  signal.me, discord.gg, ...), because it moves the conversation out of what the firm records.

A tenant's allow list (links it trusts: its own domains, its own wa.me number, a shortener it uses)
silences both; its deny list marks a link as malicious whatever else it looks like (deny wins).

Offline by construction: domains are split with the public suffix list bundled in tldextract's
wheel, and the extractor is built so that it cannot fetch a newer one (no URLs, no cache folder).
Nothing here resolves names or opens a socket; tests/policies/test_links.py checks that.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from math import exp
from urllib.parse import SplitResult, unquote, urlsplit

import tldextract

from policies.detectors.findings import MALICIOUS_LINK, Finding, Span

DETECTOR = "links"
OFF_CHANNEL = "off_channel"

# A link whose score reaches this is worth an alert on its own (about 3 points of signal: an IP
# host, an '@' trick, a brand look-alike; a shortener or a risky TLD alone stays below it).
DEFAULT_THRESHOLD = 0.5
# A link that opens another messenger's chat: strong evidence of moving off the recorded channel.
OFF_CHANNEL_SCORE = 0.9

# --- finding the links -------------------------------------------------------------------------

# Characters that end a link in chat: spaces, quotes, angle brackets, zero-width characters and
# full-width punctuation (Chinese and Japanese sentences run straight on after a link).
_STOP = (
    r"\s<>\"'`\u200b-\u200d\u2060\ufeff"
    r"\u3001\u3002\u300c-\u300f\u3010\u3011\uff01\uff08\uff09\uff0c\uff1a\uff1b\uff1f"
)
_URL_RE = re.compile(
    rf"""
    (?P<scheme>\b(?:https?|ftp|tg|whatsapp|sgnl|viber)://[^{_STOP}]+)
    | (?P<www>(?<![\w@.-])www\d{{0,3}}\.[^{_STOP}]+)
    # A bare domain: labels of letters (any script), digits and hyphens, then an optional port
    # and path. Labels are bounded, so a 100 KB word cannot make the engine backtrack for long.
    | (?P<bare>(?<![\w@./:\\-])(?:[\w-]{{1,63}}\.){{1,16}}[\w-]{{2,63}}
        (?::\d{{1,5}})?(?:[/?#][^{_STOP}]*)?)
    """,
    re.IGNORECASE | re.VERBOSE,
)
# Punctuation that ends a sentence rather than a link ("see bit.ly/x." or "*www.x.com*").
_TRAILING = ".,;:!?*_~'\"\u00ab\u00bb\u201d\u2019)]}>"
_CLOSERS = {")": "(", "]": "[", "}": "{"}
# Bare words that end like a domain but are file names in chat ("report.zip", "setup.py").
_FILE_LIKE_SUFFIXES = frozenset({"zip", "mov", "py", "sh", "md", "pl", "rs", "ps", "cs", "sql"})
_APP_SCHEMES = {"tg": "Telegram", "whatsapp": "WhatsApp", "sgnl": "Signal", "viber": "Viber"}


@dataclass(frozen=True, slots=True)
class LinkMatch:
    """A link as written in the text, at `start`..`end` of it."""

    url: str
    start: int
    end: int
    kind: str  # "scheme", "www" or "bare": a bare domain must have a real public suffix


def _trim(url: str) -> str:
    """Drop the sentence's punctuation and closing brackets the link does not open itself."""
    while url:
        last = url[-1]
        if last in _CLOSERS:
            if url.count(_CLOSERS[last]) >= url.count(last):
                break
            url = url[:-1]
        elif last in _TRAILING:
            url = url[:-1]
        else:
            break
    return url


def extract(text: str) -> list[LinkMatch]:
    """The links in `text`, in order, with their offsets in it (not yet checked for a domain)."""
    if "." not in text and "://" not in text and "\u3002" not in text:
        return []
    links = []
    for match in _URL_RE.finditer(text):
        kind = match.lastgroup or "bare"
        url = _trim(match.group())
        if not url:
            continue
        end = match.start() + len(url)
        if kind == "bare" and end < len(text) and text[end] == "@":
            continue  # the domain of an e-mail address, not a link
        links.append(LinkMatch(url, match.start(), end, kind))
    return links


# --- the data the scoring reads ----------------------------------------------------------------


def _data_lines(name: str) -> list[str]:
    text = resources.files("policies.detectors").joinpath("link_data", name).read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand whose look-alikes phish our users (a line of link_data/brands.txt)."""

    name: str
    label: str
    domains: frozenset[str]
    any_country: bool  # `label.*` in the data: the label under every country code is the brand's
    everyday_word: bool


@dataclass(frozen=True, slots=True)
class _Data:
    brands: tuple[Brand, ...]
    by_label: dict[str, Brand]
    official: frozenset[str]
    any_country_labels: frozenset[str]
    shorteners: frozenset[str]
    risky_tlds: frozenset[str]
    free_hosting: dict[str, str]  # host -> path prefix ("" for the whole host)
    messengers: dict[str, tuple[tuple[str, str], ...]]  # host -> (path prefix, messenger name)
    official_brand: dict[str, str]  # a brand's domain -> the brand's name
    named_brands: dict[str, Brand]  # labels that count when a domain merely contains them
    long_labels: re.Pattern[str]  # those of six letters or more, found inside a longer word
    typo_index: dict[str, tuple[Brand, ...]]  # deletion variants -> brands (see _typo_brand)
    by_collapsed: dict[str, Brand]  # long names with doubled letters cut to one (see _collapse)
    everyday_labels: dict[str, Brand]  # brands whose name is also an everyday word


def _deletions(word: str, depth: int) -> set[str]:
    """`word` with up to `depth` characters deleted: two words within `depth` edits share one."""
    variants = {word}
    for _ in range(depth):
        variants |= {v[:i] + v[i + 1 :] for v in variants for i in range(len(v))}
    return variants


def _typo_depth(label: str) -> int:
    return 2 if len(label) >= 10 else 1


@cache
def _data() -> _Data:
    brands = []
    for line in _data_lines("brands.txt"):
        name, label, domains = (part.strip() for part in line.split("|"))
        everyday = label.endswith("~")
        label = label.rstrip("~")
        wildcard = f"{label}.*"
        brands.append(
            Brand(
                name=name,
                label=label,
                domains=frozenset(d for d in domains.split() if d != wildcard),
                any_country=wildcard in domains.split(),
                everyday_word=everyday,
            )
        )
    messengers: dict[str, list[tuple[str, str]]] = {}
    for line in _data_lines("messengers.txt"):
        where, name = (part.strip() for part in line.split("|"))
        host, _, path = where.partition("/")
        messengers.setdefault(host, []).append((f"/{path}" if path else "", name))
    free_hosting = {}
    for line in _data_lines("free_hosting.txt"):
        host, _, path = line.partition("/")
        free_hosting[host] = f"/{path}" if path else ""
    named = {brand.label: brand for brand in reversed(brands) if not brand.everyday_word}
    typo_index: dict[str, list[Brand]] = {}
    for brand in named.values():
        if len(brand.label) >= 6:
            for variant in _deletions(brand.label, _typo_depth(brand.label)):
                typo_index.setdefault(variant, []).append(brand)
    long_labels = sorted((label for label in named if len(label) >= 6), key=len, reverse=True)
    return _Data(
        brands=tuple(brands),
        by_label={brand.label: brand for brand in reversed(brands)},
        official=frozenset(domain for brand in brands for domain in brand.domains),
        any_country_labels=frozenset(brand.label for brand in brands if brand.any_country),
        shorteners=frozenset(_data_lines("shorteners.txt")),
        risky_tlds=frozenset(_data_lines("risky_tlds.txt")),
        free_hosting=free_hosting,
        messengers={host: tuple(entries) for host, entries in messengers.items()},
        official_brand={d: brand.name for brand in reversed(brands) for d in brand.domains},
        named_brands=named,
        long_labels=re.compile("|".join(map(re.escape, long_labels))),
        typo_index={variant: tuple(found) for variant, found in typo_index.items()},
        by_collapsed={_collapse(label): b for label, b in named.items() if len(label) >= 5},
        everyday_labels={b.label: b for b in reversed(brands) if b.everyday_word},
    )


def build_extractor() -> tldextract.TLDExtract:
    """A domain splitter that can only read the suffix list bundled in tldextract's wheel.

    By default tldextract fetches the newest list on first use (with no timeout) and caches it on
    disk; no URLs and no cache folder leave it the bundled snapshot and nothing else.
    """
    return tldextract.TLDExtract(
        suffix_list_urls=(),
        cache_dir=None,
        fallback_to_snapshot=True,
        # Private suffixes (github.io, blogspot.com) make `paypal-login.github.io` the registered
        # domain, so brand checks see the part the page's owner chose.
        include_psl_private_domains=True,
    )


@cache
def _extractor() -> tldextract.TLDExtract:
    return build_extractor()


# --- look-alike characters ---------------------------------------------------------------------


# Letters of other scripts that render like Latin ones (link_data/confusables.txt). Hand-kept
# rather than a dependency: this branch may add none, and confusable-homoglyphs (the reference's
# pick, a full TS #39 skeleton) can replace it later.
@cache
def _confusables() -> dict[int, str]:
    return {ord(line[0]): line[2] for line in _data_lines("confusables.txt")}


# Digits and signs typed for letters ("paypa1", "g00gle"); `1` stands for l as often as for i.
_LEET = str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b", "$": "s"})
_SCRIPT_GROUPS = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK"}


def skeleton(label: str) -> str:
    """`label` with look-alike characters folded to the Latin letters they imitate."""
    decomposed = unicodedata.normalize("NFKD", label.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.translate(_confusables())


def _leet_variants(folded: str) -> set[str]:
    base = folded.translate(_LEET).replace("-", "")
    variants = {base.replace("1", "l"), base.replace("1", "i")}
    # Letter pairs and letters that read as another at a glance: rn/m, vv/w, q/g ("gooqle").
    variants |= {v.replace("rn", "m").replace("vv", "w").replace("q", "g") for v in variants}
    return variants


def _collapse(word: str) -> str:
    """`word` with each run of one letter cut to one: "faceboook", "paypall" -> their brand's."""
    return re.sub(r"(.)\1+", r"\1", word)


def _scripts(label: str) -> set[str]:
    scripts = set()
    for ch in label:
        if ch.isalpha():
            script = unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]
            scripts.add(_SCRIPT_GROUPS.get(script, script))
    return scripts


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count one), or limit+1 when it exceeds limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, char_b in enumerate(b, 1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)
            )
            if i > 1 and j > 1 and char_a == b[j - 2] and a[i - 2] == char_b:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return limit + 1
        before, previous = previous, current
    return previous[-1]


# --- scoring one link --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reason:
    """One sign of risk: a slug for machines, a phrase for the officer, and its weight."""

    slug: str
    phrase: str
    weight: float
    supporting: bool = False  # counts only next to a sign of its own (an http link alone is fine)


@dataclass(frozen=True, slots=True)
class Assessment:
    """What one link is: its host (as shown and in ASCII), path, reasons and messenger if any."""

    host: str
    ascii_host: str
    path: str
    reasons: tuple[Reason, ...]
    messenger: str
    official: bool

    @property
    def score(self) -> float:
        if not any(not reason.supporting for reason in self.reasons):
            return 0.0
        return 1.0 - exp(-sum(reason.weight for reason in self.reasons) / 4.0)


_CREDENTIAL_WORDS = frozenset(
    {
        # English
        "login", "log-in", "logon", "signin", "sign-in", "verify", "verification", "validate",
        "update", "secure", "security", "account", "accounts", "password", "passwd", "unlock",
        "confirm", "suspended", "restore", "recover", "recovery", "wallet", "billing", "kyc",
        "otp", "authenticate", "auth", "webscr", "banking", "reactivate", "unblock", "2fa",
        # Portuguese
        "senha", "conta", "acesso", "acessar", "atualizar", "atualizacao", "verificar",
        "validar", "validacao", "desbloqueio", "desbloquear", "seguranca", "cadastro",
        "recadastramento", "token", "regularizar", "confirmar",
        # Spanish
        "contrasena", "cuenta", "acceso", "actualizar", "actualizacion", "verificacion",
        "bloqueo", "seguridad", "iniciar-sesion",
        # Hinglish / Indian banking lures
        "ekyc", "rekyc", "kyc-update", "pan-update", "aadhaar-update", "reward", "points",
        # Prize, refund and appeal lures
        "claim", "airdrop", "refund", "appeal", "premio", "resgate", "resgatar", "reembolso",
        "devolucion",
    }
)  # fmt: skip
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_RISKY_FILES = (".apk", ".exe", ".scr", ".msi", ".bat", ".cmd", ".vbs", ".jar", ".iso", ".dmg")
_STANDARD_PORTS = frozenset({None, 80, 443})


def _ascii_host(host: str) -> str:
    labels = []
    for label in host.split("."):
        if label.isascii():
            labels.append(label)
        else:
            try:
                labels.append("xn--" + label.encode("punycode").decode("ascii"))
            except UnicodeError:
                labels.append(label)
    return ".".join(labels)


def _unicode_host(host: str) -> str:
    labels = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                labels.append(label[4:].encode("ascii").decode("punycode"))
            except UnicodeError:
                labels.append(label)
        else:
            labels.append(label)
    return ".".join(labels)


def _numeric_ip(host: str) -> bool:
    """Hosts that browsers read as an IPv4 address: 3232235521, 0xC0A80001, 0300.0250.0.1."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return False
    for part in parts:
        if re.fullmatch(r"0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*", part) is None:
            return False
    return len(parts) < 4 or any(
        p.startswith("0x") or (p.startswith("0") and p != "0") for p in parts
    )


# urlsplit keeps its last 128 answers (an lru_cache since Python 3.11): long links go around it,
# so that 128 huge links are not held in memory between messages.
_urlsplit_uncached: Callable[[str], SplitResult] = getattr(urlsplit, "__wrapped__", urlsplit)


def _split(url: str, kind: str) -> SplitResult | None:
    if kind != "scheme":
        url = "http://" + url
    try:
        parts = urlsplit(url) if len(url) <= _CACHED_URL else _urlsplit_uncached(url)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError:
        return None
    return parts


def _brand_reason(
    domain: str, registered: str, subdomain: str, suffix: str, data: _Data
) -> Reason | None:
    """The strongest sign that the host imitates a brand it does not belong to."""
    for label in subdomain.split("."):
        folded = skeleton(label)
        brand = data.by_label.get(folded)
        if brand is None or brand.everyday_word:
            brand = next(
                (
                    data.named_brands[t]
                    for t in re.split(r"[-\d]+", folded)
                    if t in data.named_brands
                ),
                None,
            )
        if brand is not None and not brand.everyday_word:
            return Reason(
                "brand_in_subdomain",
                f"puts {brand.name} in front of another domain ({registered})",
                3.0,
            )
    labels = subdomain.split(".")
    for first in range(len(labels)):
        for last in range(first + 2, min(first + 4, len(labels)) + 1):  # 2 or 3 labels
            official = ".".join(labels[first:last])
            if official in data.official_brand:
                return Reason(
                    "brand_in_subdomain",
                    f"starts with {official} ({data.official_brand[official]}) but leads to"
                    f" {registered}",
                    3.0,
                )
    folded = skeleton(domain)
    flat = folded.replace("-", "")
    brand = data.by_label.get(flat)
    if brand is not None:
        if folded == domain:
            return Reason(
                "brand_elsewhere",
                f"uses the name {brand.name} on a domain that is not {brand.name}'s",
                3.0,
            )
        return Reason(
            "brand_lookalike_characters",
            f"imitates {brand.name} with look-alike characters",
            4.0,
        )
    for variant in _leet_variants(folded):
        brand = data.by_label.get(variant) or data.by_collapsed.get(_collapse(variant))
        if brand is not None:
            how = (
                "digits or signs for letters"
                if any(ch.isdigit() or ch == "$" for ch in folded)
                else "a doubled or look-alike letter"
            )
            return Reason("brand_lookalike", f"imitates {brand.name} with {how}", 3.0)
    leet = folded.translate(_LEET).replace("1", "l")
    for token in {*re.split(r"[-\d]+", folded), *leet.split("-")}:
        brand = data.named_brands.get(token)
        if brand is not None:
            return Reason(
                "brand_in_domain", f"puts the name {brand.name} in a domain that is not theirs", 3.0
            )
    contained = data.long_labels.search(flat) or data.long_labels.search(leet.replace("-", ""))
    if contained is not None:
        brand = data.named_brands[contained.group()]
        return Reason(
            "brand_in_domain", f"puts the name {brand.name} in a domain that is not theirs", 3.0
        )
    brand = _typo_brand(flat, data)
    if brand is not None:
        # One typo from a brand is also one typo from many honest names ("finance", "revolt"):
        # a sign that adds up with others rather than an alert on its own.
        return Reason("brand_typo", f"is one or two letters away from {brand.name}", 2.0)
    return None


def _typo_brand(flat: str, data: _Data) -> Brand | None:
    """The brand `flat` is a typo of: deletion variants find the candidates (instead of an edit
    distance against every brand), the edit distance confirms them.

    The brands' variants go two deletions deep for long names, the link's one deep (ten times
    fewer strings on the hot path): that finds every single typo, and for long names a typo plus
    an added or dropped letter, but not two replaced letters.
    """
    if not 5 <= len(flat) <= 24:
        return None
    for variant in _deletions(flat, 1):
        for brand in data.typo_index.get(variant, ()):
            limit = _typo_depth(brand.label)
            if _edit_distance(flat, brand.label, limit) <= limit:
                return brand
    return None


@dataclass(frozen=True, slots=True)
class _Host:
    """What the host alone says (cached per host: chats repeat a few hosts with many paths)."""

    host: str
    ascii_host: str
    registered: str
    domain: str
    subdomain: str
    everyday_brand: str  # a brand whose name is an everyday word, in the host's words
    is_ip: bool
    official: bool
    bare_file_name: bool  # "report.zip" written bare: a file name unless a path follows
    reasons: tuple[Reason, ...]
    suffixes: tuple[str, ...]  # the host and each parent domain, longest first


# Bounds on what the caches keep, so that a flood of huge or unique links costs time, not memory:
# entries of at most _CACHED_URL characters, at most _CACHE_SIZE of them per cache (a few MB).
_CACHE_SIZE = 16_384
_CACHED_URL = 512
# A host name is at most 253 characters; written with %-codes, three times that.
_LONGEST_HOST = 3 * 253


@lru_cache(maxsize=_CACHE_SIZE)
def _host_facts(hostname: str, kind: str) -> _Host | None:
    data = _data()
    reasons: list[Reason] = []
    raw_host = hostname
    if "%" in raw_host:
        raw_host = unquote(raw_host).lower()
        reasons.append(Reason("encoded_host", "hides its address with %-codes", 2.0))
    raw_host = raw_host.translate({0x3002: ".", 0xFF0E: ".", 0xFF61: "."}).strip(".")
    # DNS names stop at 253 characters: anything longer is not a host a browser can reach.
    if not raw_host or len(raw_host) > 253 or any(ch.isspace() for ch in raw_host):
        return None
    host = _unicode_host(raw_host)
    ascii_host = _ascii_host(host)
    labels = ascii_host.split(".")
    suffixes = tuple(".".join(labels[i:]) for i in range(len(labels)))
    try:
        ipaddress.ip_address(raw_host)
        is_ip = True
    except ValueError:
        is_ip = _numeric_ip(raw_host) and kind == "scheme"
    if is_ip:
        reasons.append(Reason("ip_host", "goes to a bare IP address instead of a name", 3.0))
        return _Host(host, ascii_host, "", "", "", "", True, False, False, tuple(reasons), suffixes)
    extracted = _extractor().extract_str(ascii_host)
    domain = _unicode_host(extracted.domain)
    suffix = extracted.suffix
    subdomain = _unicode_host(extracted.subdomain)
    if not extracted.domain or not suffix:
        if kind != "scheme":
            return None
        registered = ascii_host
    else:
        registered = f"{extracted.domain}.{suffix}"
    if kind == "bare" and domain.isdigit():
        return None
    official = registered in data.official or (
        domain in data.any_country_labels and len(suffix.rsplit(".", 1)[-1]) == 2
    )
    if not official:
        if not host.isascii():
            reasons.append(
                Reason("idn", f"uses non-Latin letters (written {ascii_host})", 1.0, True)
            )
        if any(len(_scripts(label)) > 1 for label in host.split(".")):
            reasons.append(
                Reason("mixed_script", "mixes letters of different alphabets in one name", 3.0)
            )
        if domain:
            brand = _brand_reason(domain, registered, subdomain, suffix, data)
            if brand is not None:
                reasons.append(brand)
        if registered in data.shorteners or ascii_host in data.shorteners:
            reasons.append(
                Reason("shortener", "is a shortened link that hides where it leads", 1.0)
            )
        if suffix.rsplit(".", 1)[-1] in data.risky_tlds:
            reasons.append(
                Reason("risky_tld", f"ends in .{suffix}, a domain ending common in phishing", 1.5)
            )
        depth = len([label for label in subdomain.split(".") if label and label != "www"])
        if depth >= 3:
            reasons.append(Reason("many_subdomains", f"stacks {depth} sub-domains", 1.0))
        if domain.count("-") >= 2:
            reasons.append(Reason("many_hyphens", "has a name of many hyphenated words", 0.5, True))
    bare_file_name = kind == "bare" and suffix in _FILE_LIKE_SUFFIXES
    everyday = ""
    if not official and not any(reason.slug.startswith("brand_") for reason in reasons):
        words = re.split(r"[-.\d]+", skeleton(f"{subdomain}.{domain}"))
        everyday = next(
            (data.everyday_labels[w].name for w in words if w in data.everyday_labels), ""
        )
    return _Host(
        host, ascii_host, registered, domain, subdomain, everyday, False, official,
        bare_file_name, tuple(reasons), suffixes,
    )  # fmt: skip


def assess(url: str, kind: str = "scheme") -> Assessment | None:
    """The host, path and signs of risk of one link as written, or None if it is not a link.

    Cached on the link's text: chats repeat the same links, and the tenant's lists are applied
    afterwards, so one cache serves every tenant. Long links are scored afresh each time.
    """
    if len(url) <= _CACHED_URL:
        return _assess_cached(url, kind)
    return _assess(url, kind)


def clear_caches() -> None:
    """Forget every link and host scored so far (benchmarks measure the misses with this)."""
    _assess_cached.cache_clear()
    _host_facts.cache_clear()


def _assess(url: str, kind: str) -> Assessment | None:
    data = _data()
    if kind == "scheme":
        scheme = url.split(":", 1)[0].lower()
        if scheme in _APP_SCHEMES:
            return Assessment(url, url, "", (), _APP_SCHEMES[scheme], official=False)
    parts = _split(url, kind)
    if parts is None or not parts.hostname or len(parts.hostname) > _LONGEST_HOST:
        return None
    facts = _host_facts(parts.hostname, kind)
    if facts is None:
        return None
    path = parts.path or ""
    lower_path = path.lower()
    has_path = bool(path.strip("/") or parts.query or parts.port)
    if kind == "bare" and (facts.is_ip or facts.bare_file_name) and not has_path:
        return None  # "version 1.2.3.4", "report.zip": a number or a file, not a link
    reasons = list(facts.reasons)
    if parts.username is not None:
        shown = unquote(parts.username)
        where = facts.registered or facts.host
        reasons.append(Reason("userinfo", f"hides its real address {where} behind '{shown}@'", 3.0))
    if not facts.official:
        for hosting in facts.suffixes:
            prefix = data.free_hosting.get(hosting)
            if prefix is not None and lower_path.startswith(prefix):
                reasons.append(Reason("free_hosting", f"is hosted for free on {hosting}", 1.5))
                break
        lures = _lures(f"{facts.subdomain}.{facts.domain}", path, parts.query)
        if lures and facts.everyday_brand:
            # "chase-secure-alert.com/login": an everyday word alone proves nothing ("chase",
            # "meta", "caixa"), next to a log-in lure on a domain not the brand's it does.
            reasons.append(
                Reason(
                    "brand_in_domain",
                    f"puts the name {facts.everyday_brand} in a domain that is not theirs",
                    3.0,
                )
            )
        if lures:
            quoted = ", ".join(f"'{word}'" for word in lures[:3])
            reasons.append(
                Reason(
                    "credential_path",
                    f"asks for a log-in or verification ({quoted})",
                    min(3.0, 1.5 * len(lures)),
                    True,
                )
            )
        if lower_path.endswith(_RISKY_FILES):
            reasons.append(Reason("risky_file", "downloads a program or app installer", 2.0))
        if parts.port not in _STANDARD_PORTS:
            reasons.append(Reason("unusual_port", f"uses the unusual port {parts.port}", 1.0))
        if kind == "scheme" and parts.scheme.lower() == "http":
            reasons.append(Reason("no_tls", "is not encrypted (http)", 0.5, True))
        if len(url) > 120:
            reasons.append(Reason("long_url", "is unusually long", 0.5, True))
    messenger = next(
        (
            name
            for messenger_host in facts.suffixes
            for prefix, name in data.messengers.get(messenger_host, ())
            if lower_path.startswith(prefix)
        ),
        "",
    )
    return Assessment(facts.host, facts.ascii_host, path, tuple(reasons), messenger, facts.official)


_assess_cached = lru_cache(maxsize=_CACHE_SIZE)(_assess)


def _lures(names: str, path: str, query: str) -> list[str]:
    """The log-in and verification words in the host's own names, path and query, in order."""
    text = skeleton(f"{names}.{path}?{query}")
    words = set(_WORD_SPLIT.split(text))
    words |= {word for word in re.split(r"[/.?=&_]+", text) if "-" in word}
    return sorted(words & _CREDENTIAL_WORDS)


# --- the tenant's lists ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LinkList:
    """A tenant's allow or deny list: domains (which cover their sub-domains), or a domain with a
    path prefix (`wa.me/5511999990000` for the firm's own WhatsApp number)."""

    entries: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> LinkList:
        parsed = []
        for entry in entries:
            text = entry.strip().lower()
            text = re.sub(r"^[a-z]+://", "", text)
            text = text.removeprefix("www.")
            host, _, path = text.partition("/")
            host = _ascii_host(host.strip("."))
            if host and not any(ch.isspace() for ch in text):
                parsed.append((host, f"/{path.rstrip('/')}" if path.strip("/") else ""))
        return cls(tuple(parsed))

    def covers(self, assessment: Assessment) -> bool:
        host, path = assessment.ascii_host, assessment.path.lower().rstrip("/")
        for entry_host, prefix in self.entries:
            if host != entry_host and not host.endswith(f".{entry_host}"):
                continue
            if not prefix or path == prefix or path.startswith(f"{prefix}/"):
                return True
        return False


def _lists(entries: LinkList | Iterable[str]) -> LinkList:
    return entries if isinstance(entries, LinkList) else LinkList.parse(entries)


# --- the detector ------------------------------------------------------------------------------


def _explanation(assessment: Assessment, denied: bool) -> str:
    phrases = [reason.phrase for reason in assessment.reasons]
    if denied:
        phrases.insert(0, "is on your firm's block list")
    said = phrases[0] if len(phrases) == 1 else "; ".join(phrases[:-1]) + f"; and it {phrases[-1]}"
    return f"Risky link to {assessment.host}: it {said}."


def detect(
    texts: Sequence[str],
    *,
    allow: LinkList | Iterable[str] = (),
    deny: LinkList | Iterable[str] = (),
) -> list[list[Finding]]:
    """For each text, a `malicious_link` finding per risky link and an `off_channel` finding per
    link to another messenger, with the spans where each link is written.

    `allow` and `deny` are the tenant's lists (see LinkList); a link on both counts as denied.
    Anything that is not a string (a media message without a caption) has no findings.
    """
    allowed, denied = _lists(allow), _lists(deny)
    results: list[list[Finding]] = []
    for text in texts:
        findings: list[Finding] = []
        if isinstance(text, str) and text:
            findings = _findings(text, allowed, denied)
        results.append(findings)
    return results


def _findings(text: str, allowed: LinkList, denied: LinkList) -> list[Finding]:
    seen: dict[str, tuple[Assessment, list[Span]]] = {}
    for link in extract(text):
        assessment = assess(link.url, link.kind)
        if assessment is None:
            continue
        if link.url in seen:
            seen[link.url][1].append(Span(link.start, link.end))
        else:
            seen[link.url] = (assessment, [Span(link.start, link.end)])
    findings = []
    for url, (assessment, spans) in seen.items():
        is_denied = bool(denied.entries) and denied.covers(assessment)
        if not is_denied and allowed.entries and allowed.covers(assessment):
            continue
        score = 1.0 if is_denied else assessment.score
        if score > 0.0:
            slugs = [reason.slug for reason in assessment.reasons]
            findings.append(
                Finding(
                    category=MALICIOUS_LINK,
                    detector=DETECTOR,
                    score=min(score, 1.0),
                    spans=tuple(spans),
                    explanation=_explanation(assessment, is_denied),
                    attributes={
                        "url": url,
                        "host": assessment.host,
                        "reasons": ",".join((["deny_list"] if is_denied else []) + slugs),
                    },
                )
            )
        if assessment.messenger:
            findings.append(
                Finding(
                    category=OFF_CHANNEL,
                    detector=DETECTOR,
                    score=OFF_CHANNEL_SCORE,
                    spans=tuple(spans),
                    explanation=(
                        f"Link that opens a chat in {assessment.messenger} ({url}): it moves the"
                        " conversation to a channel the firm does not record."
                        if assessment.messenger != "WhatsApp"
                        else f"Link that opens another WhatsApp chat or group ({url}): it moves"
                        " the conversation to a number the firm may not record."
                    ),
                    attributes={"url": url, "messenger": assessment.messenger},
                )
            )
    return findings
