# SPDX-License-Identifier: GPL-3.0-or-later
"""runbook_nginx_site: the site file whose server block serves app_domain, found in `nginx -T`
output as nginx prints it (a `# configuration file PATH:` line before each file); none, or the
best match in several files, is one line naming what was searched."""

from __future__ import annotations

from ansible_collections.runbook.ops.plugins.modules.runbook_nginx_site import find_site, server_names, split_files

NGINX_CONF = """# configuration file /etc/nginx/nginx.conf:
user www-data;
events { worker_connections 768; }
http {
    include /etc/nginx/conf.d/*.conf;
    include /etc/nginx/sites-enabled/*;
}

"""


def dump(*files: tuple[str, str]) -> str:
    """`nginx -T` output: nginx.conf, then each (path, text)."""
    return NGINX_CONF + "".join("# configuration file %s:\n%s\n" % (path, text) for path, text in files)


SITE = """server {
    listen 80 default_server;
    server_name api.echoelmusic.com;   # the API
    location / {
        proxy_pass http://127.0.0.1:3000;
        proxy_set_header Host $host;
    }
}"""


def test_the_fixture_s_site_under_another_name():
    out = dump(("/etc/nginx/conf.d/runbook-ratelimit.conf", "limit_req_zone $binary_remote_addr zone=z:10m rate=1r/s;"),
               ("/etc/nginx/sites-enabled/echoelmusic", SITE.replace("\n", "\n")))
    best, files, error = find_site(out, "api.echoelmusic.com")
    assert error == ""
    assert best == {"path": "/etc/nginx/sites-enabled/echoelmusic", "server_name": "api.echoelmusic.com", "match": "exact"}
    assert files == [{"path": "/etc/nginx/sites-enabled/echoelmusic", "server_names": ["api.echoelmusic.com"]}]


def test_split_files_keeps_each_file_s_text():
    files = split_files(dump(("/a", "x;"), ("/b", "y;")))
    assert [path for path, _ in files] == ["/etc/nginx/nginx.conf", "/a", "/b"]
    assert files[1][1].strip() == "x;"


def test_server_names_per_block_ignore_comments_quotes_and_nested_blocks():
    text = """
    # server { server_name commented.example; }
    server {
        server_name "a.example" b.example
                    c.example;
        location /x { return 200 "server_name not.this;"; }
    }
    upstream app { server 127.0.0.1:3000; }
    server { listen 443 ssl; server_name d.example; if ($host = x) { return 301 https://$host; } }
    """
    assert server_names(text) == [["a.example", "b.example", "c.example"], ["d.example"]]


def test_exact_beats_wildcards_and_regex_in_other_files():
    out = dump(("/etc/nginx/sites-enabled/catchall", "server { server_name *.echoelmusic.com ~^api\\.; }"),
               ("/etc/nginx/sites-enabled/api", "server { server_name www.example.org API.echoelmusic.com; }"))
    best, _, error = find_site(out, "api.echoelmusic.com")
    assert (best["path"], best["match"], error) == ("/etc/nginx/sites-enabled/api", "exact", "")


def test_wildcard_forms():
    for name, match in (("*.echoelmusic.com", "leading wildcard"), (".echoelmusic.com", "leading wildcard"),
                        ("api.echoelmusic.*", "trailing wildcard"), ("~^api\\.echoelmusic\\.com$", "regex")):
        best, _, error = find_site(dump(("/s", "server { server_name %s; }" % name)), "api.echoelmusic.com")
        assert (best and best["match"], error) == (match, ""), name
    assert find_site(dump(("/s", "server { server_name *.echoelmusic.com; }")), "echoelmusic.com")[0] is None
    assert find_site(dump(("/s", "server { server_name .echoelmusic.com; }")), "echoelmusic.com")[0]["match"] == "leading wildcard"


def test_one_file_with_two_server_blocks_for_the_domain_is_one_site():
    site = "server { listen 80; server_name a.example; return 301 https://$host; }\n" \
           "server { listen 443 ssl; server_name a.example; }"
    best, _, error = find_site(dump(("/etc/nginx/sites-enabled/a", site)), "a.example")
    assert (best["path"], error) == ("/etc/nginx/sites-enabled/a", "")


def test_none_names_what_was_searched():
    best, files, error = find_site(dump(("/etc/nginx/sites-enabled/default", "server { server_name _; }"),
                                        ("/etc/nginx/sites-enabled/shop", "server { server_name shop.example; }")),
                                   "api.echoelmusic.com")
    assert best is None
    assert error == ("no nginx server block has a server_name matching api.echoelmusic.com: searched the files of "
                     "nginx -T with a server block: /etc/nginx/sites-enabled/default (_); "
                     "/etc/nginx/sites-enabled/shop (shop.example)")
    assert len(files) == 2
    assert "no file with a server block" in find_site(NGINX_CONF, "a.example")[2]


def test_the_best_match_in_several_files_is_the_one_passing_requests_on():
    # The certificate test bed's layout: port 80 and port 443 in two files for the same name;
    # only one of them proxies to the app (the other redirects, or serves nothing).
    tls = "server { listen 443 ssl; server_name api.echoelmusic.com; return 301 http://$host$request_uri; }"
    best, _, error = find_site(dump(("/etc/nginx/sites-enabled/echoelmusic", SITE),
                                    ("/etc/nginx/sites-enabled/echoelmusic-tls", tls)),
                               "api.echoelmusic.com")
    assert error == ""
    assert best == {"path": "/etc/nginx/sites-enabled/echoelmusic", "server_name": "api.echoelmusic.com",
                    "match": "exact"}
    # the other way round: the proxy in the TLS file
    redirect = SITE.replace("proxy_pass http://127.0.0.1:3000;", "return 301 https://$host$request_uri;")
    best, _, error = find_site(dump(("/etc/nginx/sites-enabled/echoelmusic", redirect),
                                    ("/etc/nginx/sites-enabled/echoelmusic-tls",
                                     tls.replace("return 301 http://$host$request_uri;",
                                                 "location / { proxy_pass http://127.0.0.1:3000; }"))),
                               "api.echoelmusic.com")
    assert error == "" and best["path"] == "/etc/nginx/sites-enabled/echoelmusic-tls"


def test_the_best_match_in_several_files_that_all_pass_requests_on_is_ambiguous():
    best, _, error = find_site(dump(("/etc/nginx/sites-enabled/echoelmusic", SITE),
                                    ("/etc/nginx/sites-enabled/echoelmusic-tls",
                                     SITE.replace("listen 80 default_server;", "listen 443 ssl;"))),
                               "api.echoelmusic.com")
    assert best is None
    assert error == ("several nginx site files serve api.echoelmusic.com (exact server_name), each passing "
                     "requests on: /etc/nginx/sites-enabled/echoelmusic, /etc/nginx/sites-enabled/echoelmusic-tls")


def test_several_files_none_passing_requests_on_is_ambiguous():
    plain = "server { listen 80; server_name api.echoelmusic.com; return 204; }"
    best, _, error = find_site(dump(("/a", plain), ("/b", plain)), "api.echoelmusic.com")
    assert best is None
    assert error == "several nginx site files serve api.echoelmusic.com (exact server_name): /a, /b"
