# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the app's endpoints answer: a health URL (one GET) and the TLS certificates (the lineage file, the served one).

Each reader returns a dict with `error` ('' when read) and never raises.
"""

from __future__ import annotations

import socket
import ssl
import time
from urllib.parse import urlsplit

from ansible.module_utils.six.moves.urllib.error import HTTPError
from ansible.module_utils.urls import open_url
from ansible_collections.runbook.ops.plugins.module_utils.runbook_x509 import certificate_entry, first_pem_certificate


def read_health(url, timeout, validate_certs):
    """One GET of a health URL: its status (None when nothing answered), seconds taken, why nothing answered."""
    if not url:
        return {"url": "", "status": None, "elapsed": None, "error": "no URL given"}
    start = time.monotonic()
    status, error = None, ""
    try:
        response = open_url(url, method="GET", timeout=timeout, validate_certs=validate_certs,
                            follow_redirects="safe")
        try:
            status = response.getcode()
        finally:
            response.close()
    except HTTPError as exc:
        status = exc.code
        exc.close()
    except Exception as exc:  # pylint: disable=broad-except
        reason = getattr(exc, "reason", None) or exc
        error = str(reason) or exc.__class__.__name__
        if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in error:
            error = "no answer within %gs" % timeout
        elif isinstance(reason, OSError):
            # urllib names only the last address it tried (localhost: ::1 after 127.0.0.1); say what each one did.
            error = connect_errors(url, timeout) or error
    return {"url": url, "status": status, "elapsed": round(time.monotonic() - start, 3), "error": error}


def health_status(url, timeout):
    """The HTTP status of one GET of url: 0 without a URL, -1 when nothing answered (refused, timed out, reset)."""
    if not url:
        return 0
    try:
        response = open_url(url, method="GET", timeout=timeout)
        try:
            return response.getcode()
        finally:
            response.close()
    except HTTPError as exc:
        exc.close()
        return exc.code
    except Exception:  # pylint: disable=broad-except
        return -1


def connect_errors(url, timeout):
    """What a TCP connection to each address of the URL's host meets: "127.0.0.1:3000 connection refused; ..."."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        addresses = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError) as exc:
        return "%s: %s" % (parts.hostname, getattr(exc, "strerror", None) or exc)
    seen, errors = set(), []
    for family, kind, proto, dummy, address in addresses:
        shown = ("[%s]:%d" if family == socket.AF_INET6 else "%s:%d") % address[:2]
        if shown in seen:
            continue
        seen.add(shown)
        try:
            with socket.socket(family, kind, proto) as sock:
                sock.settimeout(timeout)
                sock.connect(address)
            errors.append("%s accepts connections" % shown)
        except OSError as exc:
            errors.append("%s %s" % (shown, (exc.strerror or str(exc) or exc.__class__.__name__).lower()))
    return "; ".join(errors)


def read_certificate_file(path, now, commands):
    """The first certificate of a PEM file (a lineage's cert.pem): end date, days left, serial."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            pem = first_pem_certificate(f.read())
    except OSError as exc:
        reason = "no certificate at %s" % path if isinstance(exc, FileNotFoundError) else "%s: %s" % (path, exc.strerror)
        return {"path": path, "found": False, "error": reason}
    if not pem:
        return {"path": path, "found": False, "error": "no PEM certificate in %s" % path}
    try:
        return dict(certificate_entry(ssl.PEM_cert_to_DER_cert(pem), now, commands), path=path)
    except ValueError as exc:
        return {"path": path, "found": False, "error": "%s not read: %s" % (path, exc)}


def fetch_served_certificate(host, port, server_name, timeout):
    """The DER certificate the server on host:port sends for server_name (not verified: it is what we look at)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection((host, port), timeout=timeout) as sock:
        with context.wrap_socket(sock, server_hostname=server_name or None) as tls:
            return tls.getpeercert(binary_form=True)


def read_served_certificate(host, port, server_name, timeout, now, commands):
    """The certificate served on host:port for server_name: end date, days left, serial."""
    address = "%s:%d" % (host, port)
    try:
        der = fetch_served_certificate(host, port, server_name, timeout)
    except ConnectionRefusedError:
        return {"address": address, "found": False, "error": "nothing listens on %s" % address}
    except (socket.timeout, TimeoutError):
        return {"address": address, "found": False, "error": "no TLS answer from %s within %gs" % (address, timeout)}
    except ssl.SSLError as exc:
        return {"address": address, "found": False, "error": "no TLS on %s (%s)" % (address, exc.reason or exc)}
    except OSError as exc:
        return {"address": address, "found": False, "error": "%s: %s" % (address, exc.strerror or exc)}
    if not der:
        return {"address": address, "found": False, "error": "%s sent no certificate" % address}
    try:
        return dict(certificate_entry(der, now, commands), address=address)
    except ValueError as exc:
        return {"address": address, "found": False, "error": "the certificate of %s not read: %s" % (address, exc)}
