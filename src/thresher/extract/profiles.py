"""Site profiles: per-template selectors kept as data (``thresher/sites/*.toml``), and their detection."""

from __future__ import annotations

import functools
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ..clean.selectors import SelectorList
from ..errors import ConfigError

__all__ = ["AdGroup", "Catalogue", "Profile", "ProfileSet", "default_profiles"]

_ARTICLE_FIELDS = (
    "root",
    "title",
    "body",
    "author",
    "published",
    "updated",
    "tags",
    "categories",
    "thumbnail",
    "strip",
)


@dataclass(slots=True, frozen=True, kw_only=True)
class Profile:
    """Selectors for one template family; every selector list is tried in order, first match wins."""

    name: str
    family: str = ""
    description: str = ""
    timezone: str = "UTC"
    generator: re.Pattern[str] | None = None
    fingerprints: tuple[bytes, ...] = ()
    root: tuple[str, ...] = ()
    title: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    author: tuple[str, ...] = ()
    published: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    thumbnail: tuple[str, ...] = ()
    strip: tuple[str, ...] = ()
    listing: tuple[str, ...] = ()
    page: tuple[str, ...] = ()
    article: tuple[str, ...] = ()
    og_thumbnail: bool = True  # False where og:image lists body images, not a cover (Redefine, §1)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "<profile>") -> Profile:
        """Build a profile from its TOML table; raises ConfigError on a malformed one."""
        try:
            name = str(data["name"])
            detect = data.get("detect", {})
            art = data.get("article", {})
            kinds = data.get("kinds", {})
            generator = detect.get("generator")
            values: dict[str, Any] = {k: _tuple(art.get(k), source, k) for k in _ARTICLE_FIELDS}
            return cls(
                name=name,
                family=str(data.get("family", "")),
                description=str(data.get("description", "")),
                timezone=str(data.get("timezone", "UTC")),
                generator=re.compile(generator, re.I) if generator else None,
                fingerprints=tuple(
                    f.encode() for f in _tuple(detect.get("fingerprints"), source, "fingerprints")
                ),
                listing=_tuple(kinds.get("listing"), source, "kinds.listing"),
                page=_tuple(kinds.get("page"), source, "kinds.page"),
                article=_tuple(kinds.get("article"), source, "kinds.article"),
                og_thumbnail=bool(art.get("og_thumbnail", True)),
                **values,
            )
        except (KeyError, TypeError, re.error) as exc:
            raise ConfigError(f"{source}: invalid profile ({exc})") from exc


def _tuple(value: Any, source: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{source}: {key} must be a list of CSS selectors")


GENERIC = Profile(name="generic", description="No known template: text/link-density scoring")


@dataclass(slots=True, frozen=True, kw_only=True)
class AdGroup:
    """One ad network's markers."""

    network: str
    selector: str


@dataclass(slots=True, frozen=True, kw_only=True)
class AffiliateRule:
    """Hosts (and optionally a required query parameter) that mark a monetised link."""

    network: str
    hosts: tuple[str, ...]
    exact_host: bool = False
    query: tuple[str, ...] = ()

    def accepts(self, query_keys: frozenset[str]) -> bool:
        """True when the link carries the query parameter this network requires (if any)."""
        return not self.query or any(q in query_keys for q in self.query)


_MAX_ANSWERS = 4096


@dataclass(slots=True, frozen=True)
class AffiliateIndex:
    """Affiliate host patterns indexed for a few dict look-ups per link.

    ``amazon.`` matches a host with an ``amazon`` label (any TLD); ``.pxf.io`` and ``shareasale.com``
    match the domain and its subdomains; exact rules match the host only.
    """

    exact: dict[str, AffiliateRule]
    domains: dict[str, AffiliateRule]
    labels: dict[str, AffiliateRule]
    # lookup()'s answers: a page links to few hosts, a crawl to the same ones again and again
    answers: dict[str, tuple[AffiliateRule, ...]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(cls, rules: tuple[AffiliateRule, ...]) -> AffiliateIndex:
        exact: dict[str, AffiliateRule] = {}
        domains: dict[str, AffiliateRule] = {}
        labels: dict[str, AffiliateRule] = {}
        for rule in rules:
            for pattern in rule.hosts:
                if rule.exact_host:
                    exact.setdefault(pattern, rule)
                elif pattern.endswith("."):
                    labels.setdefault(pattern[:-1], rule)
                else:
                    domains.setdefault(pattern.lstrip("."), rule)
        return cls(exact, domains, labels)

    def lookup(self, host: str) -> tuple[AffiliateRule, ...]:
        """The rules whose host pattern matches ``host``, most specific first."""
        found = self.answers.get(host)
        if found is None:
            found = self._lookup(host)
            if len(self.answers) >= _MAX_ANSWERS:
                self.answers.clear()
            self.answers[host] = found
        return found

    def _lookup(self, host: str) -> tuple[AffiliateRule, ...]:
        found: list[AffiliateRule] = []
        if host in self.exact:
            found.append(self.exact[host])
        parts = host.split(".")
        for i in range(len(parts) - 1):
            rule = self.domains.get(".".join(parts[i:]))
            if rule is not None:
                found.append(rule)
        found.extend(self.labels[label] for label in parts[:-1] if label in self.labels)
        return tuple(found)


@dataclass(slots=True, frozen=True, kw_only=True)
class Catalogue:
    """The chaff catalogue (``sites/chaff.toml``) with selectors pre-joined for one-pass matching."""

    ads: tuple[AdGroup, ...]
    ad_selector: str
    chrome_selector: str
    related: tuple[tuple[str, str], ...]  # (source, joined selector)
    related_selector: str
    promo_prefixes: tuple[str, ...]
    promo_max_links: int
    promo_max_extra: int
    affiliates: AffiliateIndex = field(default_factory=lambda: AffiliateIndex({}, {}, {}))
    # The same lists parsed for prefiltering (see clean/selectors.py), and the byte markers without one of
    # which no related-posts selector can match.
    ad_list: SelectorList = field(default_factory=lambda: SelectorList(""), compare=False)
    chrome_list: SelectorList = field(default_factory=lambda: SelectorList(""), compare=False)
    related_markers: tuple[bytes, ...] | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "chaff.toml") -> Catalogue:
        """Build the catalogue from its TOML document."""
        try:
            ads = tuple(
                AdGroup(network=str(g["network"]), selector=", ".join(_tuple(g["selectors"], source, "ads")))
                for g in data.get("ads", [])
            )
            related = tuple(
                (str(g["source"]), ", ".join(_tuple(g["selectors"], source, "related")))
                for g in data.get("related", [])
            )
            promo = data.get("promo", {})
            affiliates = AffiliateIndex.build(
                tuple(
                    AffiliateRule(
                        network=str(a["network"]),
                        hosts=_tuple(a["hosts"], source, "affiliate.hosts"),
                        exact_host=bool(a.get("exact_host", False)),
                        query=_tuple(a.get("query"), source, "affiliate.query"),
                    )
                    for a in data.get("affiliate", [])
                )
            )
            ad_selector = ", ".join(g.selector for g in ads)
            chrome_selector = ", ".join(_tuple(data.get("chrome", {}).get("selectors"), source, "chrome"))
            related_selector = ", ".join(sel for _, sel in related)
            return cls(
                ads=ads,
                ad_selector=ad_selector,
                chrome_selector=chrome_selector,
                ad_list=SelectorList(ad_selector),
                chrome_list=SelectorList(chrome_selector),
                related_markers=SelectorList(related_selector).markers(),
                related=related,
                related_selector=related_selector,
                promo_prefixes=tuple(
                    p.lower() for p in _tuple(promo.get("prefixes"), source, "promo.prefixes")
                ),
                promo_max_links=int(promo.get("max_links", 3)),
                promo_max_extra=int(promo.get("max_extra_chars", 40)),
                affiliates=affiliates,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: invalid catalogue ({exc})") from exc

    def affiliate_network(self, host: str, query_keys: frozenset[str]) -> str | None:
        """The affiliate network a link to ``host`` with these query keys belongs to, or None."""
        for rule in self.affiliates.lookup(host):
            if rule.accepts(query_keys):
                return rule.network
        return None


@dataclass(slots=True, frozen=True)
class ProfileSet:
    """All known profiles plus the chaff catalogue; chooses a profile for a parsed page."""

    profiles: tuple[Profile, ...]
    catalogue: Catalogue

    @classmethod
    def load(cls, extra_dirs: tuple[Path, ...] = ()) -> ProfileSet:
        """The bundled profiles, then any ``*.toml`` profiles in ``extra_dirs`` (same name replaces)."""
        package = resources.files("thresher") / "sites"
        by_name: dict[str, Profile] = {}
        catalogue: Catalogue | None = None
        entries: list[tuple[str, str]] = []
        for entry in sorted(package.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".toml"):
                entries.append((entry.name, entry.read_text(encoding="utf-8")))
        for folder in extra_dirs:
            for path in sorted(folder.glob("*.toml")):
                entries.append((str(path), path.read_text(encoding="utf-8")))
        for name, text in entries:
            try:
                data = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ConfigError(f"{name}: {exc}") from exc
            if name.endswith("chaff.toml"):
                catalogue = Catalogue.from_dict(data, name)
            else:
                profile = Profile.from_dict(data, name)
                by_name[profile.name] = profile
        if catalogue is None:
            raise ConfigError("the chaff catalogue (sites/chaff.toml) is missing")
        # the techidaily family first: detection stops at the first profile that cannot be beaten
        ordered = sorted(by_name.values(), key=lambda p: (p.name != "redefine", p.name))
        return cls(tuple(ordered), catalogue)

    def get(self, name: str) -> Profile:
        """The profile called ``name`` ("generic" for the fallback)."""
        if name == GENERIC.name:
            return GENERIC
        for profile in self.profiles:
            if profile.name == name:
                return profile
        raise ConfigError(f"unknown site profile {name!r}")

    def detect(self, page: bytes, generator: str | None) -> Profile:
        """The best-matching profile: generator meta (+1), and +2 per fingerprint found (at most 3).

        Fingerprints are substrings of the raw page, so detection costs a few byte searches, not a tree
        walk per profile. Profiles whose generator pattern contradicts the page's generator are skipped.
        """
        best, best_score = GENERIC, 1
        for profile in self.profiles:
            score = 0
            if generator and profile.generator:
                if not profile.generator.search(generator):
                    continue
                score = 1
            hits = 0
            for fingerprint in profile.fingerprints:
                if fingerprint in page:
                    hits += 1
                    if hits == 3:
                        break
            score += 2 * hits
            if score > best_score:
                best, best_score = profile, score
                if hits == 3 and score == 7:
                    break  # no other profile can score higher; the rest would be full-page scans
        return best


@functools.cache
def default_profiles() -> ProfileSet:
    """The bundled profiles and catalogue, parsed once per process."""
    return ProfileSet.load()
