"""The links detector: phishing look-alikes, off-channel messenger links, the tenant's lists, and
that it never touches the network."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import pytest

from policies.detectors import links
from policies.detectors.findings import MALICIOUS_LINK, Finding

ROOT = Path(__file__).resolve().parents[2]


def findings_of(text: str, **lists: tuple[str, ...]) -> list[Finding]:
    return links.detect([text], **lists)[0]


def malicious(text: str, **lists: tuple[str, ...]) -> list[Finding]:
    return [f for f in findings_of(text, **lists) if f.category == MALICIOUS_LINK]


def reasons(finding: Finding) -> set[str]:
    return set(finding.attributes["reasons"].split(","))


# --- finding the links in the text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("veja https://www.itau.com.br/investimentos.", ["https://www.itau.com.br/investimentos"]),
        ("see www.santander.com.br, ok?", ["www.santander.com.br"]),
        ("manda no nubank.com.br/pix!", ["nubank.com.br/pix"]),
        (
            "(see https://en.wikipedia.org/wiki/Foo_(bar)).",
            ["https://en.wikipedia.org/wiki/Foo_(bar)"],
        ),
        ("[the form](https://forms.gle/abc123)", ["https://forms.gle/abc123"]),
        (
            "**www.bb.com.br** and <https://hdfcbank.com/login>",
            ["www.bb.com.br", "https://hdfcbank.com/login"],
        ),
        ("“https://chase.com/x”", ["https://chase.com/x"]),
        ("acesse itaú.com.br/conta já", ["itaú.com.br/conta"]),
        ("HTTPS://WWW.PAYPAL.COM/SIGNIN?", ["HTTPS://WWW.PAYPAL.COM/SIGNIN"]),
        ("link:https://bit.ly/3abc。谢谢", ["https://bit.ly/3abc"]),
    ],
)
def test_links_are_found_as_written_without_the_sentence_around_them(
    text: str, expected: list[str]
) -> None:
    found = links.extract(text)
    assert [link.url for link in found] == expected
    assert [text[link.start : link.end] for link in found] == expected


@pytest.mark.parametrize(
    "text",
    [
        "e.g. the file.pdf is in version 3.5, i.e. the old one",
        "mandei o report.zip e o setup.py",
        "my email is ana.souza@itau.com.br and john.smith@bank.com",
        "ok.thanks see you at 10.30",
        "the total was 1.234.567,89 reais",
        "version 1.2.3.4 is out",
    ],
)
def test_words_that_only_look_like_domains_give_no_finding(text: str) -> None:
    assert findings_of(text) == []


# --- phishing signs ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("http://paypal.com.secure-update.xyz/verify", "brand_in_subdomain"),
        ("https://xn--pypal-4ve.com/signin", "brand_lookalike_characters"),
        ("https://\u0430pple.com/id", "brand_lookalike_characters"),  # Cyrillic a
        ("entra em g\u043e\u043egle.com agora", "brand_lookalike_characters"),  # Cyrillic o o
        ("https://itau-atualizacao.top/conta", "brand_in_domain"),
        ("https://paypa1.com/webscr?cmd=login", "brand_lookalike"),
        ("https://hdfcbank-kyc.in/update", "brand_in_domain"),
        ("https://www.itau.com.br@evil.example/login", "userinfo"),
        ("http://192.168.10.5/bradesco/login", "ip_host"),
        ("http://0xC0A80001/a", "ip_host"),
        ("http://[2001:db8::1]/login", "ip_host"),
        ("https://nubank.com.br.conta-segura.online/acesso", "brand_in_subdomain"),
        ("https://paypal-login.github.io/", "brand_in_domain"),
        ("https://bancodobrasil.com.br.x7.cfd/", "brand_in_subdomain"),
        ("https://bradesco.app.download.link/app.apk", "risky_file"),
        ("https://caixa-tem.app-atualizar.com/", "brand_in_domain"),  # an everyday word + lure
        ("https://chase-secure-alert.com/login", "brand_in_domain"),
        ("https://meta-business-support.com/appeal", "brand_in_domain"),
        ("https://www.faceboook.com/login", "brand_lookalike"),  # a letter doubled
        ("https://www.gooqle.com/", "brand_lookalike"),  # q for g
        ("https://dropbox-files.share-doc.xyz/", "brand_in_subdomain"),
        ("https://hdfcbank.kyc-update.in/", "credential_path"),  # the lure is the domain
    ],
)
def test_phishing_links_score_above_the_default_threshold(text: str, sign: str) -> None:
    (finding,) = malicious(text)
    assert sign in reasons(finding)
    assert finding.score >= links.DEFAULT_THRESHOLD
    assert finding.detector == "links"
    assert finding.explanation.startswith("Risky link to ")
    span = finding.spans[0]
    assert text[span.start : span.end] == finding.attributes["url"]


def test_the_explanation_names_the_brand_and_what_is_wrong() -> None:
    (finding,) = malicious("olha https://itau-atualizacao.top/conta")
    assert finding.explanation == (
        "Risky link to itau-atualizacao.top: it puts the name Itaú in a domain that is not"
        " theirs; ends in .top, a domain ending common in phishing; and it asks for a log-in or"
        " verification ('atualizacao', 'conta')."
    )
    assert finding.attributes["url"] == "https://itau-atualizacao.top/conta"


def test_a_punycode_link_explains_itself_in_both_writings() -> None:
    (finding,) = malicious("https://xn--pypal-4ve.com/signin")
    assert "p\u0430ypal.com" in finding.explanation  # Cyrillic a, as decoded
    assert "xn--pypal-4ve.com" in finding.explanation


@pytest.mark.parametrize(
    "text",
    [
        "https://bit.ly/3xYzAbc",  # a shortener alone
        "https://minha-loja.shop/produtos",  # a risky TLD alone
        "https://revolt.tv/music",  # one letter from Revolut, and an honest name
    ],
)
def test_weak_signs_alone_score_below_the_default_threshold(text: str) -> None:
    (finding,) = malicious(text)
    assert 0 < finding.score < links.DEFAULT_THRESHOLD


# --- hard negatives -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "https://www.itau.com.br/investimentos",
        "acesse www.bb.com.br/pbb/pagina-inicial#/login",
        "https://www.santander.com.br/conta-corrente",
        "nubank.com.br/pix",
        "https://www.bradesco.com.br/html/classic/index.shtm",
        "https://www.hdfcbank.com/personal/login",
        "https://retail.onlinesbi.sbi/retail/login.htm",
        "https://www.icicibank.com/",
        "https://www.chase.com/personal/banking",
        "https://secure.bankofamerica.com/login/sign-in/signOnV2Screen.go",
        "https://www.paypal.com/signin",
        "https://login.microsoftonline.com/common/oauth2/authorize",
        "https://accounts.google.com/signin/v2 and https://www.google.com.br/maps",
        "https://www.apple.com/br/iphone/",
        "https://www.hsbc.co.uk/online-banking/",
        "https://www.deutsche-bank.de/pk.html",
        "https://www.bbva.es/personas.html",
        "https://github.com/org/repo/pull/12",
        "https://docs.google.com/document/d/1AbC/edit",
        "https://zoom.us/j/123456789",
        "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
        "https://en.wikipedia.org/wiki/Mutual_fund",
        "https://www.b3.com.br/pt_br/market-data-e-indices/",
        "https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany",
        "https://finance.yahoo.com/quote/AAPL",
        "http://example.com/login",  # an ordinary log-in page on an ordinary domain
        "https://www.bancosantander.es/particulares",
        "https://www.bankinter.com/banca/inicio",  # one letter from Banco Inter, and a bank
        "https://www.itau.com.ar/",
        "https://www.chase-the-dream.com/tour",  # an everyday brand word without a lure
        "https://www.meta-analysis.org/methods",
        "https://login.gov/",
        "https://telegram.org/blog",  # the messenger's site does not open a chat
        "R$ 1.500,00 ok.so vamos às 10.30 v2.0 obg.bjs",
        # Unicode domains of one alphabet, imitating nobody
        "https://bücher.de/angebote",
        "https://ação.com.br/",
        "veja 例子.中国 ok",
        "https://xn--mller-kva.de/",
    ],
)
def test_legitimate_links_give_no_finding(text: str) -> None:
    assert findings_of(text) == []


# --- off-channel links --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "messenger"),
    [
        ("me chama no wa.me/5511987654321", "WhatsApp"),
        ("https://chat.whatsapp.com/KxYz123 grupo novo", "WhatsApp"),
        ("join t.me/joinchat/AbCdEf", "Telegram"),
        ("https://t.me/+AbCdEf", "Telegram"),
        ("https://signal.me/#eu/abc", "Signal"),
        ("https://signal.group/#CjQKI", "Signal"),
        ("discord.gg/abc123", "Discord"),
        ("https://discord.com/invite/abc123", "Discord"),
        ("tg://resolve?domain=mydesk", "Telegram"),
        ("https://m.me/john.doe", "Messenger"),
    ],
)
def test_links_to_other_messengers_are_off_channel(text: str, messenger: str) -> None:
    found = [f for f in findings_of(text) if f.category == "off_channel"]
    assert len(found) == 1
    assert found[0].attributes["messenger"] == messenger
    assert found[0].detector == "links"
    assert found[0].score >= links.DEFAULT_THRESHOLD
    assert "does not record" in found[0].explanation or "may not record" in found[0].explanation


def test_a_discord_page_that_is_not_an_invite_is_not_off_channel() -> None:
    assert findings_of("https://discord.com/blog/news") == []


# --- the tenant's lists -------------------------------------------------------------------------


def test_the_firms_own_wa_me_number_on_the_allow_list_is_silent() -> None:
    text = "clique wa.me/5511999990000?text=Oi para falar com a mesa"
    assert findings_of(text, allow=("wa.me/5511999990000",)) == []
    # another number on the same host is still off-channel
    other = findings_of("wa.me/5511988887777", allow=("wa.me/5511999990000",))
    assert [f.category for f in other] == ["off_channel"]


def test_a_shortener_on_the_allow_list_is_silent() -> None:
    assert findings_of("https://bit.ly/firm-report", allow=("bit.ly",)) == []
    assert malicious("https://bit.ly/firm-report", allow=("tinyurl.com",))


def test_the_firms_own_domain_on_the_allow_list_covers_its_subdomains() -> None:
    text = "https://login.portal.mybroker-secure.xyz/verify"
    assert malicious(text)
    assert findings_of(text, allow=("https://www.mybroker-secure.xyz/",)) == []


def test_a_denied_domain_is_malicious_whatever_else_it_looks_like() -> None:
    (finding,) = malicious("see https://www.example.org/ok", deny=("example.org",))
    assert finding.score == 1.0
    assert "deny_list" in reasons(finding)
    assert "block list" in finding.explanation


def test_deny_wins_over_allow() -> None:
    (finding,) = malicious(
        "https://files.example.org/a", allow=("example.org",), deny=("files.example.org",)
    )
    assert finding.score == 1.0


def test_lists_can_be_parsed_once_and_reused() -> None:
    allow = links.LinkList.parse(["bit.ly", "  ", "wa.me/5511999990000/"])
    batch = links.detect(["bit.ly/x", "wa.me/5511999990000", "t.me/x"], allow=allow)
    assert [[f.category for f in found] for found in batch] == [[], [], ["off_channel"]]


# --- batches and spans --------------------------------------------------------------------------


def test_a_batch_returns_one_list_per_text_with_spans_in_the_original_text() -> None:
    texts = ["bom dia", "🙂 veja https://paypa1.com/login e depois https://paypa1.com/login", ""]
    batch = links.detect(texts)
    assert len(batch) == 3
    assert batch[0] == batch[2] == []
    (finding,) = batch[1]
    assert len(finding.spans) == 2  # the same link twice: one finding, both places
    for span in finding.spans:
        assert texts[1][span.start : span.end] == "https://paypa1.com/login"


def test_findings_serialise_to_the_scan_jsonl_shape() -> None:
    (finding,) = malicious("https://paypa1.com/login")
    shape = finding.as_dict()
    assert shape["url"] == "https://paypa1.com/login"
    assert shape["category"] == "malicious_link"
    json.dumps(shape)


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a" * 100_000,
        "a." * 50_000,
        "-." * 50_000,
        ("x" * 62 + ".") * 1600,
        "http://" + "a" * 100_000,
        "www." * 25_000,
        "https://" + "%41" * 30_000 + ".com",
        "\x00\x01\x02\xff\ufffd" * 20_000,
        "".join(chr(c) for c in range(0x20, 0x3000)) * 8,
    ],
)
def test_huge_and_binary_looking_texts_finish_quickly(text: str) -> None:
    started = time.perf_counter()
    links.detect([text])
    # Linear work takes milliseconds here; backtracking would take minutes.
    assert time.perf_counter() - started < 5.0


def test_huge_unique_links_are_scored_but_not_kept_in_memory() -> None:
    links.clear_caches()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(100):  # 100 messages of 100 KB, each link different: 10 MB of links
            found = links.detect([f"https://paypa1.com/{n}/{'a' * 100_000}"])
            assert found[0][0].category == MALICIOUS_LINK
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 1_000_000


def test_many_links_in_a_huge_message_are_all_found() -> None:
    text = " ".join(f"https://paypa1.com/{n}" for n in range(5_000))
    (finding,) = links.detect([text])[0][:1]
    assert finding.attributes["url"] == "https://paypa1.com/0"
    assert len(links.detect([text])[0]) == 5_000


@pytest.mark.parametrize(
    "text",
    [
        "",
        "😀😀😀🔥👍",
        "http://",
        "https://.",
        "http://[::1/login",
        "http://[zz::1]/",
        "https://example.com:99999/x",
        "https://example.com:abc/x",
        "http://exa mple.com",
        "https://%zz%.com/",
        "https://\ud800.com/",
        "http://@/",
        "www.",
        "wa.me",
    ],
)
def test_malformed_links_and_odd_text_never_raise(text: str) -> None:
    result = links.detect([text])
    assert len(result) == 1
    assert all(isinstance(f, Finding) for f in result[0])


def test_an_ipv6_literal_with_a_port_is_an_ip_host() -> None:
    (finding,) = malicious("http://[2001:db8::1]:8080/secure/login")
    assert {"ip_host", "unusual_port"} <= reasons(finding)


def test_a_percent_encoded_host_is_decoded_and_flagged() -> None:
    (finding,) = malicious("http://%70aypa1.com/login")
    assert {"encoded_host", "brand_lookalike"} <= reasons(finding)
    assert finding.attributes["host"] == "paypa1.com"


def test_text_that_is_not_a_string_has_no_findings() -> None:
    assert links.detect([None, b"https://paypa1.com"]) == [[], []]  # type: ignore[list-item]


# --- offline ------------------------------------------------------------------------------------

# Runs in a fresh interpreter (nothing cached yet) with an audit hook that refuses every socket:
# the first look-up builds the extractor and scores links; any attempt to resolve or connect is
# recorded. The control case proves the hook would have caught tldextract's default fetch.
_OFFLINE_PROBE = textwrap.dedent(
    """
    import json, os, sys
    # Ours must ignore a list URL in the environment; the control runs with tldextract's default.
    if sys.argv[1] == "ours":
        os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = "https://suffix-list.invalid/list.dat"
    else:
        os.environ.pop("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", None)
    attempts = []
    # Resolving or reaching a host; urllib3's import-time probe binds to ::1 locally, which is not.
    OUTWARD = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname",
               "socket.gethostbyname_ex", "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg"}
    def refuse(event, args):
        if event in OUTWARD:
            attempts.append(event)
            raise OSError("network refused by the test")
    sys.addaudithook(refuse)
    import tldextract
    from policies.detectors import links
    if sys.argv[1] == "ours":
        result = links.detect(["https://paypa1.com/login", "https://www.itau.com.br/", "bit.ly/x"])
        scored = [[f.attributes["reasons"] for f in found] for found in result]
    else:
        try:
            scored = tldextract.TLDExtract(cache_dir=None)("https://www.itau.com.br/").suffix
        except Exception as error:
            scored = repr(error)
    print(json.dumps({"attempts": attempts, "scored": scored}))
    """
)


def _probe(which: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE_PROBE, which],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_scoring_links_never_touches_the_network() -> None:
    result = _probe("ours")
    assert result["attempts"] == []
    assert result["scored"] == [
        ["brand_lookalike,credential_path"],
        [],
        ["shortener"],
    ]


def test_the_network_guard_catches_tldextracts_default_fetch() -> None:
    result = _probe("default")
    assert result["attempts"], "tldextract's default settings try to fetch the suffix list"


def test_the_extractor_is_built_without_urls_or_a_cache_folder() -> None:
    extractor = links.build_extractor()
    assert extractor.suffix_list_urls == ()
    assert extractor("https://a.b.example.co.uk").suffix == "co.uk"


# --- quality on the sample lists --------------------------------------------------------------

SAMPLES = Path(__file__).resolve().parent / "link_samples"


def sample(name: str) -> list[str]:
    lines = (SAMPLES / name).read_text("utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_two_hundred_legitimate_links_give_no_finding_at_all() -> None:
    urls = sample("legitimate.txt")
    assert len(urls) >= 200
    flagged = {url: found for url, found in zip(urls, links.detect(urls), strict=True) if found}
    assert flagged == {}


def test_nine_in_ten_phishing_shaped_links_reach_the_threshold() -> None:
    urls = sample("phishing.txt")
    scores = [
        max((f.score for f in found if f.category == MALICIOUS_LINK), default=0.0)
        for found in links.detect(urls)
    ]
    caught = sum(score >= links.DEFAULT_THRESHOLD for score in scores)
    assert caught / len(urls) >= 0.9, [u for u, s in zip(urls, scores, strict=True) if s < 0.5]
