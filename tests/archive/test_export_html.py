"""The HTML transcript: reads like the chat, keeps every version and deletion, links media
relatively, and is safe to open offline: no script, no external URL, every text escaped."""

from __future__ import annotations

from html.parser import HTMLParser

from archive.export.media import media_name
from archive.export.transcript import html_files, render

from .export_fixtures import conversation, every_kind, every_kind_of_message


class Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []
        self.handlers: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("href", "src", "action", "srcset", "poster"):
                self.links.append(value)
            if name.startswith("on"):
                self.handlers.append(name)

    def handle_data(self, data):
        self.text.append(data)


def page() -> tuple[str, Collector]:
    (file,) = html_files(every_kind())
    assert file.name == "acme-br_42.html"
    html = file.content.decode("utf-8")
    collector = Collector()
    collector.feed(html)
    return html, collector


def test_a_script_in_a_message_shows_as_text_and_the_page_runs_nothing():
    html, seen = page()

    assert "script" not in seen.tags
    assert seen.handlers == []
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; =HYPERLINK" in html
    assert "<script>alert('x')</script> & =HYPERLINK(\"http://evil\")" in "".join(seen.text)
    assert "script-src 'none'" in html  # a policy refuses scripts even if escaping failed


def test_every_link_stays_inside_the_bag():
    _, seen = page()

    assert seen.links
    for link in seen.links:
        assert link.startswith(("#m-", "media/")), link
        assert ".." not in link
    assert "link" not in seen.tags  # stylesheets are inline
    assert "style" in seen.tags


def test_it_reads_like_the_chat_with_every_version_deletion_reaction_and_media():
    html, seen = page()
    text = "".join(seen.text)
    messages = every_kind_of_message()

    for message in messages:
        assert f'id="m-{message.message_id}"' in html
    assert html.count('class="row out"') == sum(
        1 for m in messages if m.direction.value == "outbound"
    )
    assert html.count('class="row system"') == 1
    # Quoted reply: the quoted text, linking to the quoted message.
    assert '<div class="quote"><a href="#m-wamid.text1">Bom dia Ana' in html
    # The latest text in the bubble, and every version of the edited message, in order.
    reply = messages[1]
    assert f'<div class="text">{reply.current_text}</div>' in html
    versions = html[html.index("Edited 2 times: every version") :]
    versions = versions[: versions.index("</ol>")]
    positions = [versions.index(f"<li>{version} <small>") for version in reply.versions]
    assert positions == sorted(positions)
    assert "edited 2025-03-10T12:05:40Z by Ana Souza (Acme Securities)" in versions
    # Deleted for everyone: marked, original kept.
    assert "Deleted for everyone by Carlos Silva at 2025-03-10T12:19:00Z" in text
    assert "Melhor não comprar hoje, apaga isso." in text
    # Reactions as they stand, the history when it changed.
    assert "❤️ Carlos Silva" in text
    assert "Ana Souza (Acme Securities) removed their reaction" in text
    # Media: named, linked relatively, images previewed; a missing one says so.
    photo = messages[2].attachments[0]
    assert f'<img src="media/{media_name(photo)}" alt="ordem_PETR4.png">' in html
    assert f'href="media/{media_name(messages[3].attachments[0])}">nota.pdf</a>' in html
    assert "clip.mp4 (video/mp4): not captured" in text
    assert "Forwarded" in text
    assert "System event type: user_changed_number" in text
    assert "Monday, 10 March 2025" in text
    assert "Tuesday, 11 March 2025" in text


def test_the_same_conversation_renders_to_the_same_bytes():
    assert render(conversation(), every_kind().messages) == render(
        conversation(), every_kind().messages
    )
