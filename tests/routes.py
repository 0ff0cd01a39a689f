"""Every route the URL configuration can reverse, read at run time, so the walks over them (the
tenant wall, CSRF, injection strings) cover routes added later without being edited."""

from __future__ import annotations

from collections.abc import Iterator

from django.urls import get_resolver


def url_formats(resolver=None, prefix: str = "") -> Iterator[tuple[str, tuple[str, ...]]]:
    """Every (format string, parameter names) the URL configuration can reverse."""
    resolver = resolver or get_resolver()
    for key in list(resolver.reverse_dict.keys()):
        for possibility, _pattern, _defaults, _converters in resolver.reverse_dict.getlist(key):
            for fmt, params in possibility:
                yield prefix + fmt, tuple(params)
    for ns_prefix, sub in resolver.namespace_dict.values():
        yield from url_formats(sub, prefix + ns_prefix)


ROUTES = sorted(set(url_formats()))
OBJECT_ROUTES = [r for r in ROUTES if r[1]]
PLAIN_ROUTES = [r for r in ROUTES if not r[1]]
