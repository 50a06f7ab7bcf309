#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The nginx site file whose server block serves a domain, found in `nginx -T`.

`nginx -T` prints the whole configuration nginx loaded, each file after a
`# configuration file PATH:` line. The file wanted is the one with a `server`
block whose `server_name` matches the domain as nginx matches it: an exact
name first, then a wildcard (`*.example.com`, `.example.com`, `www.example.*`),
then a regular expression (`~...`). A best match in several files (port 80's
redirect and 443's proxy apart) is the one whose block passes requests on
(proxy_pass, fastcgi_pass, ...). None, or several files left, fails with one
line naming what was searched. Read-only.
"""

from __future__ import annotations

DOCUMENTATION = r"""
module: runbook_nginx_site
short_description: Find the nginx site file whose server block serves a domain, from nginx -T
version_added: 0.2.0
author: runbook maintainers (!UNKNOWN)
description:
  - Runs C(nginx -T) and splits its output at the C(# configuration file PATH:) lines nginx prints before each file.
  - Finds the C(server) blocks whose C(server_name) matches O(domain) the way nginx chooses a server. An exact name
    first, then a leading wildcard (C(*.example.com), C(.example.com)), then a trailing wildcard (C(www.example.*)), then
    a regular expression (C(~^api\.)). The file holding the best match is the site.
  - When the best match is in several files (port 80 and port 443 apart), the file whose matching block passes
    requests on (C(proxy_pass), C(fastcgi_pass), C(uwsgi_pass), C(scgi_pass), C(grpc_pass)) is the site.
  - Fails with one line, naming the domain and the files and names searched, when no server block serves the domain,
    or when several files are left (set the site file yourself then).
  - The module only reads, and never reports a change. It needs to run as root, as C(nginx -T) does.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - runbook.ops.read_only
attributes:
  platform:
    platforms: posix
    details: Runs C(nginx -T) on the host.
options:
  domain:
    description: The host name the site serves (the contract's C(app_domain)).
    type: str
    required: true
  nginx:
    description: The nginx program (found on the PATH and in the sbin directories).
    type: str
    default: nginx
"""

EXAMPLES = r"""
- name: Find the nginx site file that serves the API's domain
  runbook.ops.runbook_nginx_site:
    domain: "{{ app_domain }}"
  register: prevention_ratelimit_found
  check_mode: false

- name: Name it
  ansible.builtin.debug:
    msg: "{{ prevention_ratelimit_found.site }} serves {{ app_domain }} (server_name {{ prevention_ratelimit_found.server_name }})"
"""

RETURN = r"""
site:
  description: The site file, symbolic links resolved (the file to edit).
  returned: success
  type: str
  sample: /etc/nginx/sites-available/echoelmusic
path:
  description: The file as C(nginx -T) names it (often the link under C(sites-enabled)).
  returned: success
  type: str
  sample: /etc/nginx/sites-enabled/echoelmusic
server_name:
  description: The C(server_name) value that matched.
  returned: success
  type: str
  sample: api.echoelmusic.com
match:
  description: How it matched, C(exact), C(leading wildcard), C(trailing wildcard) or C(regex).
  returned: success
  type: str
  sample: exact
files:
  description: Every file of the configuration with a C(server) block, and the C(server_name) values there.
  returned: always
  type: list
  elements: dict
  sample: [{"path": "/etc/nginx/sites-enabled/echoelmusic", "server_names": ["api.echoelmusic.com"]}]
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.runbook.ops.plugins.module_utils.runbook_command import Commands

HEADER = re.compile(r"^# configuration file (.+):\s*$")
TIERS = ("exact", "leading wildcard", "trailing wildcard", "regex")
PASSES = ("proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass")


def split_files(text):
    """[(path, contents)] of `nginx -T` output, in the order nginx printed them."""
    files = []
    path, lines = None, []
    for line in text.splitlines():
        found = HEADER.match(line)
        if found:
            if path is not None:
                files.append((path, "\n".join(lines)))
            path, lines = found.group(1), []
        elif path is not None:
            lines.append(line)
    if path is not None:
        files.append((path, "\n".join(lines)))
    return files


def tokens(text):
    """The words, quoted strings and `{` `}` `;` of an nginx config, comments left out."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
        elif char == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif char in "{};":
            yield char
            i += 1
        elif char in "\"'":
            end = i + 1
            while end < n and text[end] != char:
                end += 2 if text[end] == "\\" else 1
            yield text[i + 1:end]
            i = end + 1
        else:
            end = i
            while end < n and not text[end].isspace() and text[end] not in "{};":
                end += 2 if text[end] == "\\" else 1
            yield text[i:end]
            i = end


def server_blocks(text):
    """Each `server {}` block of one file's text: (its server_name values, whether it hands
    requests on: a proxy_pass, fastcgi_pass, uwsgi_pass, scgi_pass or grpc_pass inside it)."""
    blocks = []
    stack = []  # per open block: its directive name and, for a server block, [names, passes]
    words = []
    for token in tokens(text):
        if token == "{":
            name = words[0] if words else ""
            stack.append((name, [[], False] if name == "server" else None))
            words = []
        elif token == "}":
            if stack:
                name, block = stack.pop()
                if block is not None:
                    blocks.append((block[0], block[1]))
            words = []
        elif token == ";":
            server = next((block for _name, block in reversed(stack) if block is not None), None)
            if words and server is not None:
                if words[0] == "server_name" and stack[-1][1] is server:
                    server[0].extend(words[1:])
                elif words[0] in PASSES:
                    server[1] = True
            words = []
        else:
            words.append(token)
    return blocks


def server_names(text):
    """The server_name values of each `server {}` block of one file's text: [[name, ...], ...]."""
    return [names for names, _passes in server_blocks(text)]


def tier(name, domain):
    """How a server_name value matches the domain (an index of TIERS), or None."""
    name, domain = name.lower(), domain.lower().rstrip(".")
    if name.startswith("~"):
        try:
            return 3 if re.search(name[1:], domain) else None
        except re.error:
            return None
    if name == domain:
        return 0
    if name.startswith("*.") and domain.endswith(name[1:]):
        return 1
    if name.startswith(".") and (domain == name[1:] or domain.endswith(name)):
        return 1
    if name.endswith(".*") and domain.startswith(name[:-1]) and len(domain) > len(name) - 1:
        return 2
    return None


def find_site(text, domain):
    """(best, files, error) for `nginx -T` output: best is {path, server_name, match} or None."""
    files = []
    matches = []  # (tier, path, name)
    proxying = set()  # files with a matching block that hands requests on (the app's, not a redirect)
    for path, contents in split_files(text):
        blocks = server_blocks(contents)
        if not blocks:
            continue
        names = [name for block_names, _passes in blocks for name in block_names]
        files.append({"path": path, "server_names": names})
        for block_names, passes in blocks:
            for name in block_names:
                rank = tier(name, domain)
                if rank is not None:
                    matches.append((rank, path, name))
                    if passes:
                        proxying.add((rank, path))
    if not matches:
        searched = "; ".join("%s (%s)" % (f["path"], ", ".join(f["server_names"]) or "no server_name")
                             for f in files) or "no file with a server block"
        return None, files, ("no nginx server block has a server_name matching %s: searched the files of nginx -T "
                             "with a server block: %s" % (domain, searched))
    best = min(match[0] for match in matches)
    paths = []
    for rank, path, name in matches:
        if rank == best and path not in paths:
            paths.append(path)
    if len(paths) > 1:  # e.g. port 80's redirect in one file, 443's proxy in another: the proxy's
        handing_on = [path for path in paths if (best, path) in proxying]
        if len(handing_on) != 1:
            return None, files, ("several nginx site files serve %s (%s server_name)%s: %s"
                                 % (domain, TIERS[best], ", each passing requests on" if handing_on else "",
                                    ", ".join(handing_on or paths)))
        paths = handing_on
    name = next(name for rank, path, name in matches if rank == best and path == paths[0])
    return {"path": paths[0], "server_name": name, "match": TIERS[best]}, files, ""


def main():
    module = AnsibleModule(
        argument_spec={"domain": {"type": "str", "required": True},
                       "nginx": {"type": "str", "default": "nginx"}},
        supports_check_mode=True,
    )
    domain = module.params["domain"].strip()
    if not domain:
        module.fail_json(msg="no domain given: set app_domain to the host name the site serves", files=[])
    commands = Commands().use(module)
    program = commands.which(module.params["nginx"])
    if not program:
        module.fail_json(msg="%s is not installed: no nginx configuration to search for %s"
                         % (module.params["nginx"], domain), files=[])
    rc, out, err = commands.run([program, "-T"], timeout=60)
    if rc != 0:
        reason = (err.strip().splitlines() or ["exit status %d" % rc])[-1]
        module.fail_json(msg="nginx -T failed, so the site serving %s cannot be found: %s" % (domain, reason),
                         files=[])
    best, files, error = find_site(out, domain)
    if best is None:
        module.fail_json(msg=error + ". Set app_nginx_site to the site file.", files=files)
    module.exit_json(changed=False, site=os.path.realpath(best["path"]), path=best["path"],
                     server_name=best["server_name"], match=best["match"], files=files)


if __name__ == "__main__":
    main()
