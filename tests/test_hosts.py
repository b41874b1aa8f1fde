"""Absolute URLs come from the configured base URL, never from a request's Host header, and the
server answers only the hosts it is meant to."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request
from xml.etree import ElementTree as ET

import pytest
from conftest import free_port, kb_command

from kb.app import create_app
from kb.config import ConfigError, Settings, check_base_url, check_hosts, for_serving
from kb.server import default_workers

ATOM = "{http://www.w3.org/2005/Atom}"
BASE_URL = "https://kb.example.org"


@pytest.fixture
def site(built):
    """A production-like app: a canonical base URL and one allowed host."""
    settings = Settings(built.practices_dir, built.index_dir, BASE_URL, ("kb.example.org", "localhost"))
    return create_app(settings).test_client()


def absolute_urls(client, host: str) -> dict[str, str]:
    """The first absolute URL of each download and of the practice page's JSON-LD, asked with `host`."""
    headers = {"Host": host}
    feed = ET.fromstring(client.get("/feed.atom", headers=headers).data)
    page = client.get("/practices/jam-path", headers=headers).get_data(as_text=True)
    json_ld = json.loads(page.split('<script type="application/ld+json">')[1].split("</script>")[0])
    csv_text = client.get("/api/export.csv?q=PATH", headers=headers).get_data(as_text=True)
    return {
        "feed id": feed.find(f"{ATOM}id").text,
        "feed entry": feed.find(f"{ATOM}entry/{ATOM}id").text.rsplit("/", 1)[0],
        "json-ld": json_ld["url"],
        "bibtex": client.get("/practices/jam-path/cite.bib", headers=headers).get_data(as_text=True)
        .split("url = {")[1].split("}")[0],
        "ris": client.get("/practices/jam-path/cite.ris", headers=headers).get_data(as_text=True)
        .split("UR  - ")[1].split("\r\n")[0],
        "csl-json": client.get("/practices/jam-path/cite.json", headers=headers).get_json(force=True)[0]["URL"],
        "json export": client.get("/api/export.json?q=PATH", headers=headers).get_json()["practices"][0]["url"],
        "csv export": csv_text.splitlines()[1].split(",")[1],
    }


def test_absolute_urls_come_from_the_base_url_whatever_the_host_header(site):
    assert absolute_urls(site, "localhost") == {
        "feed id": f"{BASE_URL}/feed.atom", "feed entry": f"{BASE_URL}/practices",
        "json-ld": f"{BASE_URL}/practices/jam-path", "bibtex": f"{BASE_URL}/practices/jam-path",
        "ris": f"{BASE_URL}/practices/jam-path", "csl-json": f"{BASE_URL}/practices/jam-path",
        "json export": f"{BASE_URL}/practices/jam-path", "csv export": f"{BASE_URL}/practices/jam-path"}


@pytest.mark.parametrize("path, kind", [("/feed.atom", "json"), ("/search", "text"), ("/api/search", "json"),
                                        ("/practices/jam-path/cite.bib", "json"), ("/healthz", "json"),
                                        ("/practices/jam-path", "text")])
def test_a_host_that_is_not_allowed_gets_a_400(site, path, kind):
    response = site.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert b"evil.example" not in response.data
    if kind == "json":
        assert response.get_json() == {"error": {"status": 400, "parameter": "Host",
                                                 "message": "This site does not answer for this host name."}}
    else:
        assert (response.mimetype, response.get_data(as_text=True)) == (
            "text/plain", "This site does not answer for this host name.\n")
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_an_allowed_host_with_a_port_is_answered(site):
    assert site.get("/healthz", headers={"Host": "kb.example.org:8443"}).status_code == 200


def test_development_uses_the_request_host(client):
    feed = ET.fromstring(client.get("/feed.atom", headers={"Host": "dev.example:5000"}).data)
    assert feed.find(f"{ATOM}id").text == "http://dev.example:5000/feed.atom"


def test_production_without_a_base_url_refuses_to_start(built):
    with pytest.raises(ConfigError, match="KB_BASE_URL is not set"):
        create_app(built)


@pytest.mark.parametrize("value, expected", [
    ("https://kb.example.org/", "https://kb.example.org"),
    ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
    ("https://example.org/kb/", "https://example.org/kb"),
])
def test_a_base_url_is_checked_and_kept_without_its_final_slash(value, expected):
    assert check_base_url(value) == expected


@pytest.mark.parametrize("value", ["kb.example.org", "ftp://kb.example.org", "https://kb.example.org/?a=1",
                                   "https://user@kb.example.org", "https://kb.example.org/#top",
                                   "https://kb.example.org/}{"])
def test_a_base_url_that_is_not_one_is_refused(value):
    with pytest.raises(ConfigError, match="KB_BASE_URL must be the site's address like https://kb.example.org"):
        check_base_url(value)


def test_allowed_hosts_are_a_comma_separated_list():
    assert check_hosts(" kb.example.org, .example.net ,LOCALHOST") == ("kb.example.org", ".example.net", "localhost")
    with pytest.raises(ConfigError, match="KB_ALLOWED_HOSTS must be host names"):
        check_hosts("kb.example.org, http://x")


@pytest.mark.parametrize("host, debug, configured, expected_base, expected_hosts, notes", [
    ("127.0.0.1", False, (None, None), "http://127.0.0.1:5000", ("localhost", "127.0.0.1"), 2),
    ("0.0.0.0", False, (None, None), "http://127.0.0.1:5000", ("localhost", "127.0.0.1"), 2),
    ("kb.lan", False, (None, None), "http://kb.lan:5000", ("localhost", "127.0.0.1", "kb.lan"), 2),
    ("0.0.0.0", False, (BASE_URL, None), BASE_URL, ("localhost", "127.0.0.1", "kb.example.org"), 1),
    ("0.0.0.0", False, (BASE_URL, ("kb.example.org",)), BASE_URL, ("kb.example.org",), 0),
    ("127.0.0.1", True, (None, None), None, ("localhost", "127.0.0.1"), 2),
])
def test_kb_serve_defaults(tmp_path, host, debug, configured, expected_base, expected_hosts, notes):
    base = Settings(tmp_path, tmp_path, *configured)
    served, said = for_serving(base, host, 5000, debug)
    assert (served.base_url, served.allowed_hosts, len(said)) == (expected_base, expected_hosts, notes)


def get(url: str, host: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_kb_serve_answers_only_its_hosts_and_links_to_its_own_address(live_server):
    status, body = get(live_server + "/search", host="evil.example")
    assert (status, body) == (400, b"This site does not answer for this host name.\n")
    status, body = get(live_server + "/feed.atom", host="evil.example")
    assert (status, json.loads(body)["error"]["parameter"]) == (400, "Host")
    status, body = get(live_server + "/feed.atom")
    assert status == 200
    assert ET.fromstring(body).find(f"{ATOM}id").text == f"{live_server}/feed.atom"
    port = live_server.rsplit(":", 1)[1]
    status, body = get(live_server + "/feed.atom", host=f"localhost:{port}")
    assert (status, ET.fromstring(body).find(f"{ATOM}id").text) == (200, f"{live_server}/feed.atom")


def test_kb_serve_uses_kb_base_url_and_says_which_hosts_it_answers(built):
    port = free_port()
    env = {**os.environ, "KB_BASE_URL": "https://kb.example.org/", "KB_ALLOWED_HOSTS": "127.0.0.1"}
    proc = subprocess.Popen(kb_command(built, "serve", "--port", str(port)), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                status, body = get(url + "/feed.atom")
                break
            except OSError:
                time.sleep(0.1)
        assert ET.fromstring(body).find(f"{ATOM}id").text == "https://kb.example.org/feed.atom"
        assert get(url + "/feed.atom", host="localhost")[0] == 400
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode()
    assert out.splitlines()[0] == f"Serving on http://127.0.0.1:{port}/ with {default_workers()} worker(s) of 8 threads"


def test_kb_serve_refuses_a_bad_base_url(built):
    env = {**os.environ, "KB_BASE_URL": "kb.example.org"}
    run = subprocess.run(kb_command(built, "serve"), capture_output=True, text=True, env=env, timeout=30)
    assert (run.returncode, run.stdout) == (1, "")
    assert run.stderr == ("Error: KB_BASE_URL must be the site's address like https://kb.example.org, "
                          "found 'kb.example.org'\n")
