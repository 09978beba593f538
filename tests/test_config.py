from __future__ import annotations

from pathlib import Path

import pytest

from thresher import __version__
from thresher.config import load_config, parse_config, parse_interval, site_for_urls
from thresher.errors import ConfigError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def test_example_config_loads() -> None:
    config = load_config(FIXTURES / "thresher.toml")
    assert [s.name for s in config.sites] == ["fix-guides", "byteguides"]
    site = config.sites[0]
    assert site.hosts == ["127.0.0.2:8000"]
    assert site.delay == 0.5 and site.recrawl_after == 6 * 3600 and site.profile == "redefine"
    assert site.exclude[0].search("http://127.0.0.2:8000/tags/x/")
    assert (
        config.crawl.user_agent == f"thresher/{__version__} (+https://github.com/thresher-archive/thresher)"
    )
    assert config.select(["byteguides"]).sites[0].name == "byteguides"
    with pytest.raises(ConfigError, match="no site named nope"):
        config.select(["nope"])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"crawl": {"delay": "fast"}}, "crawl.delay must be a number"),
        ({"crawl": {"delay": -1}}, "at least 0"),
        ({"crawl": {"speed": 1}}, "unknown \\[crawl\\] key"),
        ({"bogus": {}}, "unknown section"),
        ({"sites": [{"name": "a"}]}, "at least one of start_urls"),
        ({"sites": [{"name": "a b", "start_urls": ["https://x.example/"]}]}, "name must be"),
        ({"sites": [{"name": "a", "start_urls": ["ftp://x.example/"]}]}, "not an http"),
        (
            {"sites": [{"name": "a", "start_urls": ["https://x.example/"], "exclude": ["("]}]},
            "invalid regular",
        ),
        (
            {"sites": [{"name": "a", "start_urls": ["https://x.example/"], "recrawl_after": "soon"}]},
            "not an interval",
        ),
        ({"sites": [{"name": "a", "start_urls": ["https://x.example/"], "colour": "red"}]}, "unknown key"),
        (
            {
                "sites": [
                    {"name": "a", "start_urls": ["https://x.example/"]},
                    {"name": "a", "feeds": ["https://y/"]},
                ]
            },
            "duplicate site name",
        ),
    ],
)
def test_bad_config_names_the_problem(data: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[crawl\ndelay = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"broken\.toml"):
        load_config(broken)


def test_intervals() -> None:
    assert parse_interval("90") == 90
    assert parse_interval("15m") == 900
    assert parse_interval("6h") == 21600
    assert parse_interval("7d") == 604800
    assert parse_interval(2.5) == 2.5


def test_sites_from_urls_group_by_host() -> None:
    sites = site_for_urls(
        ["https://a.example/x/", "https://a.example/y/?utm_source=z", "http://127.0.0.2:8000/"]
    )
    assert [s.hosts for s in sites] == [["a.example"], ["127.0.0.2:8000"]]
    assert sites[0].start_urls == ["https://a.example/x/", "https://a.example/y/"]
