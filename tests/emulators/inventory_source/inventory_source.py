#!/usr/bin/env python3
"""Emulator of the warehouse-side HTTP inventory sources PackageBee reads, for tests.

Written from PackageBee's specification of its HTTP warehouse sources (a CSV feed over HTTP(S) and
a paged JSON inventory API) and the HTTP RFCs it cites (RFC 9110 conditional requests and dates,
RFC 8288 Link, RFC 6750 / RFC 7617 authentication, RFC 3339 timestamps), independently of the
connector. Python standard library only: http.server (threaded) and ssl.

    python3 inventory_source.py [--tls-cert server.pem --tls-key server.key] --port 0 --port-file F \
        [--paging page|offset|cursor|link] [--generate N] [--seed items.json|items.csv] ...
    (python3 inventory_source.py --help lists every option; tests/emulators/README.md explains them)

API (the "non-control" requests: subject to faults and auth, recorded in the request log):
    GET|HEAD /feeds/<name>.csv     the feed's CSV text as last set; strong ETag, Last-Modified;
                                   If-None-Match / If-Modified-Since -> 304 (RFC 9110 13.2.2)
    GET|HEAD /api/inventory        items ordered by SKU, one page per request (--paging);
                                   updated_since=<RFC 3339 UTC> keeps items with updated_at >= it

Control (no auth, never faulted, not logged):
    GET  /_emulator/health                 "ok"
    GET  /_emulator/state                  clock, item count, feeds, configuration, pending faults
    GET  /_emulator/items[?sku=S]          the dataset (canonical: sku, quantity, location, updated_at)
    POST /_emulator/items                  {"items": [{"sku", "quantity", "location"?, "updated_at"?}],
                                            "replace": bool, "delete": ["sku", ...]}
    GET  /_emulator/csv                    the feeds (name, etag, last_modified, bytes); DELETE: remove all
    POST /_emulator/csv/<name>             raw body = the feed's new CSV text (served as given);
                                           ?from_items=1 (empty body): the dataset as CSV
    DELETE /_emulator/csv/<name>
    GET|POST /_emulator/clock              {"now": RFC 3339} freezes the clock there; {"advance": S};
                                           {"real": true} follows the wall clock again
    GET|POST /_emulator/faults             POST appends a rule, see Faults; GET lists pending rules
    POST /_emulator/faults/clear
    GET|POST /_emulator/redirects          POST {"path": P, "location": L, "status": 301|302|303|307|308
                                           (default 302)} makes requests for P answer that redirect
                                           (no auth needed, logged, never faulted); L is sent as
                                           given (absolute or relative); "location": null removes it
    POST /_emulator/redirects/clear
    GET  /_emulator/log[?after=SEQ]        the request log; POST /_emulator/log/clear empties it

Faults: {"status": 429|500|503|..., "count": N (default 1), "retry_after": S, "path": "/api/inventory",
"malformed_json": bool, "drop_connection": bool, "drop_mid_body": bool, "delay_ms": D} applies to the
next N non-control requests whose path is "path" or under it (any path when absent). Rules are kept
in order; a request takes one use of the first rule that matches. Effects, in this order: wait
delay_ms; drop_connection closes the connection without an answer; status answers that status with
a JSON error (and Retry-After: S when retry_after is given) without serving the request; otherwise
the request is served, then malformed_json cuts the body to half its length (Content-Length
matching the cut body), drop_mid_body sends the full Content-Length but only half the body and
closes the connection.

Redirects (--redirect PATH=LOCATION, repeatable, status --redirect-status, or the control endpoint
above) are answered before anything else of a request, as a proxy or CDN in front of the source
would: to test that a client follows them, stops on a loop, and sends its credentials only to the
origin they are for (the log's "authorization" says whether a request carried any).

Readiness: once listening, the port is written to --port-file (written to F.tmp, renamed) and a
line "inventory source emulator listening on http[s]://HOST:PORT" is printed, as the other
emulators here do.
"""

import argparse
import base64
import binascii
import bisect
import calendar
import collections
import csv
import hashlib
import hmac
import io
import itertools
import json
import math
import os
import re
import socket
import ssl
import sys
import threading
import time
import traceback
import urllib.parse
from datetime import datetime
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_BODY = 512 * 1024 * 1024  # control uploads (a million-row CSV is ~30 MB)
PAGING_MODES = ("page", "offset", "cursor", "link")
AUTH_REALM = "inventory"
MISSING = object()


class ApiError(Exception):
    """An error answer: JSON {"error": code, "message": text}."""

    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self):
        return json.dumps({"error": self.code, "message": self.message}).encode("utf-8")


def bad_request(message, code="bad_request"):
    return ApiError(400, code, message)


# ---- time ------------------------------------------------------------------------------------------
RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z")


def parse_rfc3339(text):
    """An RFC 3339 date-time in UTC ("Z", or a zero offset) -> epoch seconds (float).

    Any other offset is refused: the spec asks for UTC timestamps, and a "+" that a client forgot
    to percent-encode arrives as a space, which is refused too."""
    m = RFC3339.match(text or "")
    if not m:
        raise ValueError(f"not an RFC 3339 date-time (e.g. 2026-11-26T10:00:00Z): {text!r}")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    off = m.group(8)
    if off not in ("Z", "z") and off[1:] != "00:00":
        raise ValueError(f"not a UTC timestamp (use 'Z'): {text!r}")
    try:
        datetime(y, mo, d, h, mi, s)  # range checks (month 13, Feb 30, second 60 ...)
    except ValueError:
        raise ValueError(f"not a valid date-time: {text!r}") from None
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) + (float(m.group(7)) if m.group(7) else 0.0)


_ISO_CACHE = {}


def format_rfc3339(ts):
    """Epoch seconds (int) -> "2026-11-26T10:00:00Z" (second precision, UTC)."""
    s = _ISO_CACHE.get(ts)
    if s is None:
        s = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
        if len(_ISO_CACHE) > 100000:
            _ISO_CACHE.clear()
        _ISO_CACHE[ts] = s
    return s


def http_date(ts):
    """IMF-fixdate (RFC 9110 5.6.7), e.g. "Thu, 26 Nov 2026 10:00:00 GMT"."""
    return formatdate(int(ts), usegmt=True)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MON = "(" + "|".join(_MONTHS) + ")"
_IMF_FIXDATE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) " + _MON + r" (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT\Z")
_RFC850 = re.compile(r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\d{2})-" + _MON
                     + r"-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT\Z")
_ASCTIME = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + _MON + r" ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})\Z")


def parse_http_date(text):
    """HTTP-date (RFC 9110 5.6.7: IMF-fixdate, and the obsolete rfc850-date and asctime-date that
    recipients must accept) -> epoch seconds, or None when it is not a valid HTTP-date."""
    text = text.strip()
    m = _IMF_FIXDATE.match(text)
    if m:
        d, mon, y, h, mi, s = m.groups()
    else:
        m = _RFC850.match(text)
        if m:
            d, mon, yy, h, mi, s = m.groups()
            # A two-digit year more than 50 years in the future is the most recent past year with
            # those digits (RFC 9110 5.6.7).
            this_year = time.gmtime().tm_year
            y = (this_year // 100) * 100 + int(yy)
            if y > this_year + 50:
                y -= 100
        else:
            m = _ASCTIME.match(text)
            if not m:
                return None
            mon, d, h, mi, s, y = m.groups()
    try:
        dt = (int(y), _MONTHS.index(mon) + 1, int(d), int(h), int(mi), int(s))
        datetime(*dt)
    except ValueError:
        return None
    return calendar.timegm(dt + (0, 0, 0))


class Clock:
    """The emulator's clock: the wall clock until set, then frozen (moved only by set/advance)."""

    def __init__(self, frozen_at=None):
        self.lock = threading.Lock()
        self.frozen = frozen_at

    def now(self):
        with self.lock:
            return self.frozen if self.frozen is not None else time.time()

    def set(self, ts):
        with self.lock:
            self.frozen = ts

    def advance(self, seconds):
        with self.lock:
            self.frozen = (self.frozen if self.frozen is not None else time.time()) + seconds

    def real(self):
        with self.lock:
            self.frozen = None

    def state(self):
        with self.lock:
            now = self.frozen if self.frozen is not None else time.time()
            return {"now": format_rfc3339(int(now)), "epoch": now, "frozen": self.frozen is not None}


# ---- field paths -----------------------------------------------------------------------------------
def parse_path(text, option):
    segments = tuple(text.split("."))
    if not text or any(not s for s in segments):
        raise ValueError(f"{option}: a field path is names separated by dots, not {text!r}")
    return segments


def check_disjoint(paths):
    """No path may equal another or lie inside it (sku and sku.code cannot both be fields)."""
    items = [(name, p) for name, p in paths if p]
    for (n1, p1), (n2, p2) in itertools.combinations(items, 2):
        short, long_ = (p1, p2) if len(p1) <= len(p2) else (p2, p1)
        if long_[:len(short)] == short:
            raise ValueError(f"{n1} ({'.'.join(p1)}) and {n2} ({'.'.join(p2)}) overlap")


def set_path(obj, path, value):
    for seg in path[:-1]:
        obj = obj.setdefault(seg, {})
    obj[path[-1]] = value


# ---- the dataset -----------------------------------------------------------------------------------
class Store:
    """Items by SKU, with the orderings paging needs.

    items maps sku -> (quantity, location, updated_at) where updated_at is whole epoch seconds;
    the tuples are replaced, never changed, so a paging snapshot can keep references to them.
    skus is every SKU in order (Python str order: Unicode code points). by_time maps an
    updated_at to the sorted SKUs that have it and times lists those updated_at values in order,
    so updated_since finds the few recently changed items without scanning all of them. Every
    method is called with lock held (the API holds it while it picks a page)."""

    REBUILD_AT = 2000  # more changes than this (or 5% of the items) in one call: rebuild the indexes

    def __init__(self):
        self.lock = threading.RLock()
        self.items = {}
        self.skus = []
        self.by_time = {}
        self.times = []
        self.version = 0
        self._views = collections.OrderedDict()  # since -> sorted SKUs with updated_at >= since

    def _changed(self):
        self.version += 1
        self._views.clear()

    def rebuild(self):
        self.skus = sorted(self.items)
        by_time = {}
        items = self.items
        for s in self.skus:
            by_time.setdefault(items[s][2], []).append(s)
        self.by_time = by_time
        self.times = sorted(by_time)
        self._changed()

    def generate(self, n, now):
        """SKU-0000001..: quantity i % 1000, location east (odd i) / west (even i), updated_at now."""
        t = int(now)
        width = max(7, len(str(n)))
        recs = [(i % 1000, "west", t) for i in range(1000)] + [(i % 1000, "east", t) for i in range(1000)]
        skus = [f"SKU-{i:0{width}d}" for i in range(1, n + 1)]
        if self.items:
            self.items.update(zip(skus, (recs[(i & 1) * 1000 + i % 1000] for i in range(1, n + 1))))
            self.rebuild()
            return
        # Fast path for an empty store (a million items): SKUs come out in order, one updated_at.
        self.items = dict(zip(skus, (recs[(i & 1) * 1000 + i % 1000] for i in range(1, n + 1))))
        self.skus = skus
        self.by_time = {t: list(skus)} if skus else {}
        self.times = [t] if skus else []
        self._changed()

    def _index_add(self, sku, t):
        bucket = self.by_time.get(t)
        if bucket is None:
            self.by_time[t] = [sku]
            bisect.insort(self.times, t)
        else:
            bisect.insort(bucket, sku)

    def _index_remove(self, sku, t):
        bucket = self.by_time[t]
        del bucket[bisect.bisect_left(bucket, sku)]
        if not bucket:
            del self.by_time[t]
            del self.times[bisect.bisect_left(self.times, t)]

    def apply(self, updates, replace, deletes, now):
        """updates: validated dicts {sku, quantity, location (or MISSING), updated_at (int or None)}.

        An item's updated_at becomes now when it is created or its quantity changes (or the
        explicit updated_at given); a change of location alone keeps it. replace: items not
        in updates are removed; deletes: these SKUs are removed."""
        t_now = int(now)
        summary = {"created": 0, "changed": 0, "location_only": 0, "unchanged": 0, "deleted": 0}
        staged = {}
        for u in updates:
            sku, qty, given_t = u["sku"], u["quantity"], u["updated_at"]
            old = self.items.get(sku)
            loc = u["location"] if u["location"] is not MISSING else (old[1] if old else None)
            if old is None:
                staged[sku] = (qty, loc, t_now if given_t is None else given_t)
                summary["created"] += 1
            elif old[0] != qty or given_t is not None:
                staged[sku] = (qty, loc, t_now if given_t is None else given_t)
                summary["changed"] += 1
            elif old[1] != loc:
                staged[sku] = (qty, loc, old[2])
                summary["location_only"] += 1
            else:
                summary["unchanged"] += 1
        if replace:
            keep = {u["sku"] for u in updates}
            for sku in self.items:
                if sku not in keep:
                    staged[sku] = None
        for sku in deletes:
            if sku in self.items:
                staged[sku] = None
        summary["deleted"] = sum(1 for r in staged.values() if r is None)
        if not staged:
            return summary
        if len(staged) > max(self.REBUILD_AT, len(self.items) // 20):
            for sku, rec in staged.items():
                if rec is None:
                    self.items.pop(sku, None)
                else:
                    self.items[sku] = rec
            self.rebuild()
            return summary
        for sku, rec in staged.items():
            old = self.items.get(sku)
            if old is not None and (rec is None or rec[2] != old[2]):
                self._index_remove(sku, old[2])
            if rec is None:
                if old is not None:
                    del self.items[sku]
                    del self.skus[bisect.bisect_left(self.skus, sku)]
                continue
            if old is None:
                bisect.insort(self.skus, sku)
            if old is None or rec[2] != old[2]:
                self._index_add(sku, rec[2])
            self.items[sku] = rec
        self._changed()
        return summary

    def view(self, since):
        """The SKUs, in order, of the items with updated_at >= since (whole seconds; None: all).

        May be self.skus itself: read it with the lock held, never keep or change it."""
        if since is None:
            return self.skus
        i = bisect.bisect_left(self.times, since)
        if i == 0:
            return self.skus
        v = self._views.get(since)
        if v is not None:
            self._views.move_to_end(since)
            return v
        tail = self.times[i:]
        count = sum(len(self.by_time[t]) for t in tail)
        if count * 8 < len(self.skus):
            v = sorted(itertools.chain.from_iterable(self.by_time[t] for t in tail))
        else:
            items = self.items
            v = [s for s in self.skus if items[s][2] >= since]
        self._views[since] = v  # cached until the next change, so later pages cost no scan
        if len(self._views) > 16:
            self._views.popitem(last=False)
        return v

    def canonical(self, sku):
        q, loc, t = self.items[sku]
        return {"sku": sku, "quantity": q, "location": loc, "updated_at": format_rfc3339(t)}


def parse_item(obj, where):
    if not isinstance(obj, dict):
        raise bad_request(f"{where}: an item is a JSON object")
    unknown = sorted(set(obj) - {"sku", "quantity", "location", "updated_at"})
    if unknown:
        raise bad_request(f"{where}: unknown field(s) {unknown} (sku, quantity, location, updated_at)")
    sku = obj.get("sku")
    if not isinstance(sku, str) or not sku:
        raise bad_request(f"{where}: sku must be a non-empty string")
    qty = obj.get("quantity")
    if isinstance(qty, bool) or not isinstance(qty, int):
        raise bad_request(f"{where} ({sku}): quantity must be an integer")
    loc = obj.get("location", MISSING)
    if loc is not MISSING and loc is not None and not isinstance(loc, str):
        raise bad_request(f"{where} ({sku}): location must be a string or null")
    t = obj.get("updated_at")
    if t is not None:
        try:
            tf = parse_rfc3339(t) if isinstance(t, str) else None
        except ValueError as e:
            raise bad_request(f"{where} ({sku}): updated_at: {e}") from None
        if tf is None or tf != int(tf):
            raise bad_request(f"{where} ({sku}): updated_at is an RFC 3339 UTC time in whole seconds")
        t = int(tf)
    return {"sku": sku, "quantity": qty, "location": loc, "updated_at": t}


def parse_items_payload(body):
    if not isinstance(body, dict):
        raise bad_request("expected a JSON object {\"items\": [...], \"replace\": bool, \"delete\": [...]}")
    unknown = sorted(set(body) - {"items", "replace", "delete"})
    if unknown:
        raise bad_request(f"unknown key(s) {unknown}")
    items = body.get("items", [])
    if not isinstance(items, list):
        raise bad_request("items must be a list")
    replace = body.get("replace", False)
    if not isinstance(replace, bool):
        raise bad_request("replace must be true or false")
    deletes = body.get("delete", [])
    if not isinstance(deletes, list) or not all(isinstance(s, str) for s in deletes):
        raise bad_request("delete must be a list of SKUs")
    parsed = [parse_item(obj, f"items[{i}]") for i, obj in enumerate(items)]
    seen = set()
    for p in parsed:
        if p["sku"] in seen:
            raise bad_request(f"sku {p['sku']!r} appears twice")
        seen.add(p["sku"])
    return parsed, replace, deletes


def load_seed(path):
    """A seed file: JSON like POST /_emulator/items, or CSV with sku,quantity[,location][,updated_at]."""
    if path.lower().endswith(".csv"):
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
        items = []
        for r in rows:
            item = {"sku": r["sku"], "quantity": int(r["quantity"])}
            if (r.get("location") or "") != "":
                item["location"] = r["location"]
            if (r.get("updated_at") or "") != "":
                item["updated_at"] = r["updated_at"]
            items.append(item)
        return parse_items_payload({"items": items})[0]
    with open(path, encoding="utf-8") as f:
        return parse_items_payload(json.load(f))[0]


# ---- CSV feeds -------------------------------------------------------------------------------------
FEED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


class Feed:
    __slots__ = ("content", "etag", "last_modified")

    def __init__(self, content, last_modified):
        self.content = content
        # A strong validator (RFC 9110 8.8.3): it changes whenever the bytes change.
        self.etag = '"' + hashlib.sha256(content).hexdigest()[:40] + '"'
        self.last_modified = int(last_modified)

    def info(self, name):
        return {"name": name, "path": f"/feeds/{name}.csv", "etag": self.etag,
                "last_modified": http_date(self.last_modified), "bytes": len(self.content)}


_ETAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*(?:,|\Z)')


def if_none_match_matches(value, etag):
    """If-None-Match (RFC 9110 13.1.2): "*" or a list of entity tags, compared weakly."""
    if value.strip() == "*":
        return True
    opaque = etag[1:-1]
    pos = 0
    while pos < len(value):
        m = _ETAG.match(value, pos)
        if not m:
            return False  # not a valid list: no match (the request is then unconditional)
        if m.group(2) == opaque:
            return True
        pos = m.end()
    return False


def items_csv(store):
    out = io.StringIO()
    w = csv.writer(out)  # RFC 4180: CRLF line ends, quoting as needed
    w.writerow(["sku", "quantity", "location", "updated_at"])
    for sku in store.skus:
        q, loc, t = store.items[sku]
        w.writerow([sku, q, loc or "", format_rfc3339(t)])
    return out.getvalue().encode("utf-8")


# ---- faults ----------------------------------------------------------------------------------------
FAULT_KEYS = {"status", "count", "retry_after", "path", "malformed_json", "delay_ms", "drop_connection",
              "drop_mid_body"}
FAULT_CODES = {429: "rate_limited", 500: "internal_error", 502: "bad_gateway", 503: "service_unavailable",
               504: "gateway_timeout"}


def parse_fault(body):
    if not isinstance(body, dict):
        raise bad_request("a fault is a JSON object")
    unknown = sorted(set(body) - FAULT_KEYS)
    if unknown:
        raise bad_request(f"unknown fault key(s) {unknown}; known: {sorted(FAULT_KEYS)}")
    rule = {"count": 1, "status": None, "retry_after": None, "path": None, "malformed_json": False,
            "delay_ms": 0, "drop_connection": False, "drop_mid_body": False}
    for k, v in body.items():
        if k in ("malformed_json", "drop_connection", "drop_mid_body"):
            if not isinstance(v, bool):
                raise bad_request(f"{k} must be true or false")
        elif k == "path":
            if not isinstance(v, str) or not v.startswith("/"):
                raise bad_request("path must be an absolute path such as /api/inventory")
        elif v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise bad_request(f"{k} must be an integer")
        rule[k] = v
    if rule["count"] is None or rule["count"] < 1:
        raise bad_request("count must be 1 or more")
    if rule["status"] is not None and not 400 <= rule["status"] <= 599:
        raise bad_request("status must be a 4xx or 5xx code")
    if rule["retry_after"] is not None and rule["retry_after"] < 0:
        raise bad_request("retry_after is a number of seconds, 0 or more")
    if rule["delay_ms"] is None or rule["delay_ms"] < 0:
        raise bad_request("delay_ms must be 0 or more")
    if not (rule["status"] or rule["malformed_json"] or rule["drop_connection"] or rule["drop_mid_body"]
            or rule["delay_ms"]):
        raise bad_request("a fault needs status, malformed_json, drop_connection, drop_mid_body or delay_ms")
    return rule


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.rules = []

    def add(self, rule):
        with self.lock:
            self.rules.append(rule)
            return [dict(r) for r in self.rules]

    def clear(self):
        with self.lock:
            self.rules = []

    def list(self):
        with self.lock:
            return [dict(r) for r in self.rules]

    def take(self, path):
        with self.lock:
            for i, r in enumerate(self.rules):
                p = r["path"]
                if p is None or path == p or path.startswith(p.rstrip("/") + "/"):
                    r["count"] -= 1
                    if r["count"] <= 0:
                        del self.rules[i]
                    return dict(r)
        return None


# ---- request log -----------------------------------------------------------------------------------
class RequestLog:
    def __init__(self, path, limit, secrets):
        self.lock = threading.Lock()
        self.entries = collections.deque(maxlen=limit)
        self.seq = 0
        # Entries whose answer is on the wire but not yet recorded: a client that reads the log right
        # after its answer must find the entry, so list() waits for these (briefly: a client that
        # does not read a big body could hold one).
        self.answering = set()
        self.settled = threading.Condition(self.lock)
        self.file = open(path, "a", encoding="utf-8") if path else None
        # Every form a secret could take in a logged string (the query, a header): replaced.
        variants = set()
        for s in secrets:
            if s:
                variants.update({s, urllib.parse.quote(s, safe=""), urllib.parse.quote_plus(s),
                                 json.dumps(s)[1:-1]})
        self.secrets = sorted(variants, key=len, reverse=True)

    def next_seq(self):
        with self.lock:
            self.seq += 1
            return self.seq

    def answer_begins(self, seq):
        with self.lock:
            self.answering.add(seq)

    def scrub(self, text):
        for s in self.secrets:
            text = text.replace(s, "[redacted]")
        return text

    def record(self, entry):
        line = json.dumps(entry)
        if self.secrets:
            line = self.scrub(line)
            entry = json.loads(line)
        with self.lock:
            self.entries.append(entry)
            self.answering.discard(entry["seq"])
            self.settled.notify_all()
            if self.file:
                self.file.write(line + "\n")
                self.file.flush()

    def list(self, after=0):
        with self.lock:
            self.settled.wait_for(lambda: not self.answering, timeout=2.0)
            return [e for e in self.entries if e["seq"] > after]

    def clear(self):
        with self.lock:
            self.entries.clear()


# ---- the emulator ----------------------------------------------------------------------------------
def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Emulator:
    def __init__(self, args, store, clock, secrets, tls):
        self.a = args
        self.store = store
        self.clock = clock
        self.tls = tls
        self.feeds = {}
        self.feeds_lock = threading.Lock()
        self.faults = Faults()
        self.redirects = {}  # path -> (status, location)
        self.redirects_lock = threading.Lock()
        for spec in args.redirect:
            path, _, location = spec.partition("=")
            self.set_redirect(path, location, args.redirect_status)
        self.log = RequestLog(args.request_log, args.max_log_entries, secrets.get("all", []))
        self.auth = secrets.get("auth")  # None, ("bearer", token) or ("basic", user, password)
        self.snapshots = collections.OrderedDict()  # id -> (skus, records)
        self.snapshot_seq = 0
        paths = [("--sku-field", args.sku_field), ("--quantity-field", args.quantity_field),
                 ("--location-field", args.location_field), ("--updated-at-field", args.updated_at_field)]
        self.fields = [(p, i) for i, (_, p) in enumerate(paths) if p]
        self.size_param = args.size_param or ("per_page" if args.paging == "page" else "limit")
        mode_params = {"page": [args.page_param, self.size_param],
                       "offset": [args.offset_param, self.size_param],
                       "cursor": [args.cursor_param, self.size_param],
                       "link": [args.token_param, self.size_param]}[args.paging]
        self.known_params = set(mode_params + [args.since_param])
        if len(self.known_params) != len(mode_params) + 1:
            raise ValueError(f"query parameter names must differ: {sorted(mode_params + [args.since_param])}")

    # ---- items as the API shows them ----
    def item_json(self, sku, rec):
        obj = {}
        vals = (sku, rec[0], rec[1], format_rfc3339(rec[2]))
        for path, i in self.fields:
            set_path(obj, path, vals[i])
        return obj

    def wrap(self, rows, extra):
        items = [self.item_json(s, r) for s, r in rows]
        if self.a.bare_array:
            return items
        body = {}
        set_path(body, self.a.items_key, items)
        for path, value in extra:
            set_path(body, path, value)
        return body

    # ---- query parameters ----
    @staticmethod
    def single(params, name):
        values = params.get(name)
        if values is None:
            return None
        if len(values) > 1:
            raise bad_request(f"{name} given more than once")
        return values[0]

    def int_param(self, params, name, default, minimum):
        raw = self.single(params, name)
        if raw is None:
            return default
        if not re.fullmatch(r"[0-9]{1,18}", raw):
            raise bad_request(f"{name} must be an integer >= {minimum}, not {raw!r}")
        v = int(raw)
        if v < minimum:
            raise bad_request(f"{name} must be an integer >= {minimum}, not {raw!r}")
        return v

    def page_size(self, params):
        size = self.int_param(params, self.size_param, self.a.default_page_size, 1)
        return min(size, self.a.max_page_size)  # the client's size, up to the maximum

    def encode_token(self, state):
        return b64url(json.dumps(state, separators=(",", ":")).encode("utf-8"))

    def decode_token(self, raw, name):
        err = bad_request(f"{name} is not a valid {name} (use the value the previous page gave, as is)",
                          code="invalid_cursor")
        try:
            state = json.loads(unb64url(raw).decode("utf-8"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise err from None
        if not isinstance(state, dict) or not set(state) <= {"a", "s", "i", "u", "l"}:
            raise err
        u = state.get("u")
        if u is not None and (isinstance(u, bool) or not isinstance(u, int)):
            raise err
        if self.a.snapshot_paging:
            if not all(isinstance(state.get(k), int) and not isinstance(state.get(k), bool) for k in ("s", "i")):
                raise err
        elif not isinstance(state.get("a"), str):
            raise err
        if self.a.paging == "link":
            lim = state.get("l")
            if isinstance(lim, bool) or not isinstance(lim, int) or not 1 <= lim <= self.a.max_page_size:
                raise err
        return state

    def keyset_page(self, state, since, size):
        """One page for cursor and link paging: (rows, next state or None)."""
        store = self.store
        if self.a.snapshot_paging:
            with store.lock:
                if state is None:
                    view = store.view(since)
                    snap = (list(view), [store.items[s] for s in view])
                    snap_id, pos = None, 0
                else:
                    snap_id, pos = state["s"], state["i"]
                    snap = self.snapshots.get(snap_id)
                    if snap is None:
                        raise bad_request("the cursor's snapshot has expired (start again from the first page)",
                                          code="invalid_cursor")
                    self.snapshots.move_to_end(snap_id)
                skus, recs = snap
                if not 0 <= pos <= len(skus):
                    raise bad_request("invalid cursor", code="invalid_cursor")
                end = min(pos + size, len(skus))
                rows = list(zip(skus[pos:end], recs[pos:end]))
                if end >= len(skus):
                    return rows, None
                if snap_id is None:
                    self.snapshot_seq += 1
                    snap_id = self.snapshot_seq
                    self.snapshots[snap_id] = snap
                    while len(self.snapshots) > self.a.max_snapshots:
                        self.snapshots.popitem(last=False)
                return rows, {"s": snap_id, "i": end, "u": since}
        with store.lock:
            view = store.view(since)
            start = 0 if state is None else bisect.bisect_right(view, state["a"])
            end = start + size
            items = store.items
            rows = [(s, items[s]) for s in view[start:end]]
            if end >= len(view) or not rows:
                return rows, None
            return rows, {"a": rows[-1][0], "u": since}

    def list_inventory(self, params, host):
        a = self.a
        if a.strict_params:
            unknown = sorted(set(params) - self.known_params)
            if unknown:
                raise bad_request(f"unknown query parameter(s) {unknown}; this API takes {sorted(self.known_params)}")
        since = None
        raw_since = self.single(params, a.since_param)
        if raw_since is not None:
            try:
                since = math.ceil(parse_rfc3339(raw_since))  # updated_at is whole seconds
            except ValueError as e:
                raise bad_request(f"{a.since_param}: {e}") from None
        headers = {}
        extra = []
        store = self.store
        if a.paging in ("page", "offset"):
            if a.paging == "page":
                page = self.int_param(params, a.page_param, 1, 1)
                size = self.page_size(params)
                start = (page - 1) * size
            else:
                start = self.int_param(params, a.offset_param, 0, 0)
                size = self.page_size(params)
            with store.lock:
                view = store.view(since)
                total = len(view)
                items = store.items
                rows = [(s, items[s]) for s in view[start:start + size]]
            if a.paging == "page":
                headers["X-Total-Count"] = str(total)
                headers["X-Total-Pages"] = str(-(-total // size))
        elif a.paging == "cursor":
            raw = self.single(params, a.cursor_param)
            size = self.page_size(params)
            state = self.decode_token(raw, a.cursor_param) if raw is not None else None
            if state is not None and state.get("u") != since:
                raise bad_request(f"this {a.cursor_param} belongs to a listing with a different {a.since_param}; "
                                  f"repeat the first request's {a.since_param} on every page", code="invalid_cursor")
            rows, nxt = self.keyset_page(state, since, size)
            extra.append((a.cursor_field, self.encode_token(nxt) if nxt else None))
        else:  # link
            raw = self.single(params, a.token_param)
            if raw is not None:
                others = sorted(k for k in params if k != a.token_param)
                if others:
                    raise bad_request(f"the next-page URL is opaque: request it as given, without adding {others}")
                state = self.decode_token(raw, a.token_param)
                since, size = state.get("u"), state["l"]
            else:
                state = None
                size = self.page_size(params)
            rows, nxt = self.keyset_page(state, since, size)
            if nxt:
                nxt["l"] = size
                scheme = "https" if self.tls else "http"
                url = f"{scheme}://{host}/api/inventory?{a.token_param}={self.encode_token(nxt)}"
                headers["Link"] = f'<{url}>; rel="next"'
        return self.wrap(rows, extra), headers, len(rows)

    # ---- auth ----
    def check_auth(self, headers, entry, enforce=True):
        value = headers.get("Authorization")
        entry["authorization"] = value is not None
        scheme, _, cred = (value or "").strip().partition(" ")
        if value is not None:
            known = ("bearer", "basic", "digest", "token", "negotiate", "apikey")
            entry["auth_scheme"] = scheme if scheme.lower() in known else "other"
        if self.auth is None or not enforce:
            return
        kind = self.auth[0]
        ok = False
        if kind == "bearer":
            # RFC 6750 2.1: "Bearer" (case-insensitive auth-scheme, RFC 9110 11.1) SP token.
            if scheme.lower() == "bearer":
                ok = hmac.compare_digest(cred.strip().encode("utf-8"), self.auth[1].encode("utf-8"))
            # RFC 6750 3: no error code when the request has no credentials; invalid_token when wrong.
            challenge = f'Bearer realm="{AUTH_REALM}"' + (', error="invalid_token"' if value is not None else "")
        else:
            if scheme.lower() == "basic":
                try:
                    user, sep, pw = base64.b64decode(cred.strip(), validate=True).decode("utf-8").partition(":")
                except (ValueError, binascii.Error, UnicodeDecodeError):
                    user, sep, pw = "", "", ""
                ok = bool(sep) and (hmac.compare_digest(user.encode(), self.auth[1].encode())
                                    & hmac.compare_digest(pw.encode(), self.auth[2].encode()))
            challenge = f'Basic realm="{AUTH_REALM}", charset="UTF-8"'  # RFC 7617 2, 2.1
        entry["auth_ok"] = ok
        if not ok:
            message = "credentials required" if value is None else "invalid credentials"
            raise ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})

    # ---- feeds ----
    def set_feed(self, name, content):
        with self.feeds_lock:
            old = self.feeds.get(name)
            if old is not None and old.content == content:
                return False, old.info(name)  # same bytes: not a change, Last-Modified stays
            feed = Feed(content, self.clock.now())
            self.feeds[name] = feed
            return True, feed.info(name)

    def get_feed(self, name, headers):
        with self.feeds_lock:
            feed = self.feeds.get(name)
        if feed is None:
            raise ApiError(404, "not_found", f"no feed {name!r}")
        # RFC 9110 13.2.2: If-None-Match is evaluated when present; If-Modified-Since only when it
        # is absent, and only for GET/HEAD. An If-Modified-Since that is not exactly one valid
        # HTTP-date is ignored (13.1.3).
        inm = headers.get_all("If-None-Match")
        not_modified = False
        if inm:
            not_modified = if_none_match_matches(", ".join(inm), feed.etag)
        else:
            ims = headers.get_all("If-Modified-Since") or []
            if len(ims) == 1:
                t = parse_http_date(ims[0])
                not_modified = t is not None and feed.last_modified <= t
        if not_modified:
            # 304: no body; ETag repeated; no other representation metadata (RFC 9110 15.4.5).
            return 304, b"", {"ETag": feed.etag}, None
        return 200, feed.content, {"ETag": feed.etag, "Last-Modified": http_date(feed.last_modified)}, \
            "text/csv; charset=utf-8"

    # ---- redirects ----
    REDIRECT_STATUSES = (301, 302, 303, 307, 308)

    def set_redirect(self, path, location, status=302):
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("/_emulator"):
            raise ValueError(f"a redirect's path starts with '/' (not /_emulator): {path!r}")
        if status not in self.REDIRECT_STATUSES:
            raise ValueError(f"a redirect's status is one of {self.REDIRECT_STATUSES}: {status!r}")
        with self.redirects_lock:
            if location is None:
                self.redirects.pop(path, None)
            elif not isinstance(location, str) or not location or any(ord(c) < 0x21 for c in location):
                raise ValueError(f"a redirect's location is a URL without spaces: {location!r}")
            else:
                self.redirects[path] = (status, location)

    def redirect_list(self):
        with self.redirects_lock:
            return [{"path": p, "status": st, "location": loc} for p, (st, loc) in sorted(self.redirects.items())]

    def redirect_for(self, path):
        with self.redirects_lock:
            return self.redirects.get(path)

    # ---- routing of API requests ----
    FEED_PATH = re.compile(r"/feeds/(.+)\.csv\Z")

    def route(self, handler, method, path, query, entry):
        """-> (status, body bytes, headers, content type); raises ApiError."""
        m = self.FEED_PATH.match(path)
        if m and FEED_NAME.match(m.group(1)):
            kind = "feed"
        elif path == "/api/inventory":
            kind = "api"
        else:
            raise ApiError(404, "not_found", f"no resource at {path}")
        entry["resource"] = kind
        if method not in ("GET", "HEAD"):
            raise ApiError(405, "method_not_allowed", f"{method} is not allowed here (GET, HEAD)",
                           headers={"Allow": "GET, HEAD"})
        self.check_auth(handler.headers, entry, enforce=kind == "api" or self.a.auth_feeds)
        if kind == "feed":
            return self.get_feed(m.group(1), handler.headers)
        try:
            params = urllib.parse.parse_qs(query, keep_blank_values=True, strict_parsing=False,
                                           max_num_fields=100)
        except ValueError as e:
            raise bad_request(f"bad query string: {e}") from None
        host = handler.headers.get("Host") or ""
        if not re.fullmatch(r"[A-Za-z0-9.\-]+(:\d+)?|\[[0-9A-Fa-f:.]+\](:\d+)?", host):
            host = f"{self.a.host}:{handler.server.server_address[1]}"
        body, headers, count = self.list_inventory(params, host)
        entry["items"] = count
        return 200, json.dumps(body, separators=(",", ":")).encode("utf-8"), headers, "application/json"

    # ---- control ----
    def control(self, method, path, query, body_bytes):
        """-> (status, JSON-able or str)."""
        params = urllib.parse.parse_qs(query, keep_blank_values=True)

        def body_json():
            try:
                return json.loads(body_bytes.decode("utf-8")) if body_bytes else {}
            except ValueError as e:
                raise bad_request(f"invalid JSON: {e}") from None

        def allow(*methods):
            if method not in methods:
                raise ApiError(405, "method_not_allowed", f"{method} {path}: use {', '.join(methods)}",
                               headers={"Allow": ", ".join(methods)})

        if path == "/_emulator/health":
            allow("GET", "HEAD")
            return 200, "ok"
        if path == "/_emulator/state":
            allow("GET", "HEAD")
            with self.store.lock:
                count = len(self.store.items)
                distinct = len(self.store.times)
            with self.feeds_lock:
                feeds = [f.info(n) for n, f in sorted(self.feeds.items())]
            a = self.a
            return 200, {"clock": self.clock.state(), "items": count, "distinct_updated_at": distinct,
                         "feeds": feeds, "faults": self.faults.list(),
                         "config": {"paging": a.paging, "page_param": a.page_param, "size_param": self.size_param,
                                    "offset_param": a.offset_param, "cursor_param": a.cursor_param,
                                    "cursor_field": a.cursor_field and ".".join(a.cursor_field),
                                    "token_param": a.token_param, "since_param": a.since_param,
                                    "default_page_size": a.default_page_size, "max_page_size": a.max_page_size,
                                    "items_key": None if a.bare_array else ".".join(a.items_key),
                                    "snapshot_paging": a.snapshot_paging,
                                    "auth": self.auth[0] if self.auth else None, "auth_feeds": a.auth_feeds,
                                    "tls": self.tls}}
        if path == "/_emulator/items":
            allow("GET", "POST")
            if method == "GET":
                sku = params.get("sku")
                with self.store.lock:
                    if sku:
                        if sku[0] not in self.store.items:
                            raise ApiError(404, "not_found", f"no item {sku[0]!r}")
                        return 200, self.store.canonical(sku[0])
                    return 200, {"items": [self.store.canonical(s) for s in self.store.skus]}
            updates, replace, deletes = parse_items_payload(body_json())
            with self.store.lock:
                now = self.clock.now()
                summary = self.store.apply(updates, replace, deletes, now)
                summary["items"] = len(self.store.items)
            summary["now"] = format_rfc3339(int(now))
            return 200, summary
        if path == "/_emulator/csv":
            allow("GET", "DELETE")
            with self.feeds_lock:
                if method == "DELETE":
                    self.feeds.clear()
                return 200, {"feeds": [f.info(n) for n, f in sorted(self.feeds.items())]}
        if path.startswith("/_emulator/csv/"):
            name = path[len("/_emulator/csv/"):]
            if not FEED_NAME.match(name):
                raise bad_request(f"a feed name is letters, digits, '.', '_', '-': {name!r}")
            allow("POST", "PUT", "DELETE")
            if method == "DELETE":
                with self.feeds_lock:
                    if self.feeds.pop(name, None) is None:
                        raise ApiError(404, "not_found", f"no feed {name!r}")
                return 200, {"deleted": name}
            if params.get("from_items", ["0"])[0] not in ("", "0", "false"):
                with self.store.lock:
                    content = items_csv(self.store)
            else:
                content = body_bytes
            changed, info = self.set_feed(name, content)
            info["changed"] = changed
            return 200, info
        if path == "/_emulator/clock":
            allow("GET", "POST")
            if method == "POST":
                body = body_json()
                if not isinstance(body, dict) or not set(body) <= {"now", "advance", "real"} or not body:
                    raise bad_request('expected {"now": "2026-11-26T10:00:00Z"}, {"advance": seconds} or {"real": true}')
                if body.get("real") is True:
                    self.clock.real()
                elif "real" in body:
                    raise bad_request("real must be true")
                if "now" in body:
                    try:
                        self.clock.set(parse_rfc3339(body["now"] if isinstance(body["now"], str) else ""))
                    except ValueError as e:
                        raise bad_request(f"now: {e}") from None
                if "advance" in body:
                    adv = body["advance"]
                    if isinstance(adv, bool) or not isinstance(adv, (int, float)) or adv < 0:
                        raise bad_request("advance is a number of seconds, 0 or more")
                    self.clock.advance(adv)
            return 200, self.clock.state()
        if path == "/_emulator/faults":
            allow("GET", "POST")
            if method == "POST":
                return 200, {"faults": self.faults.add(parse_fault(body_json()))}
            return 200, {"faults": self.faults.list()}
        if path == "/_emulator/redirects":
            allow("GET", "POST")
            if method == "POST":
                rule = body_json()
                if not isinstance(rule, dict) or set(rule) - {"path", "location", "status"}:
                    raise bad_request('a redirect is {"path", "location", "status"}')
                try:
                    self.set_redirect(rule.get("path"), rule.get("location"), rule.get("status", 302))
                except ValueError as e:
                    raise bad_request(str(e)) from None
            return 200, {"redirects": self.redirect_list()}
        if path == "/_emulator/redirects/clear":
            allow("POST")
            with self.redirects_lock:
                self.redirects.clear()
            return 200, {"redirects": []}
        if path == "/_emulator/faults/clear":
            allow("POST")
            self.faults.clear()
            return 200, {"faults": []}
        if path == "/_emulator/log":
            allow("GET")
            after = params.get("after", ["0"])[0]
            if not after.isdigit():
                raise bad_request("after must be a sequence number")
            return 200, self.log.list(int(after))
        if path == "/_emulator/log/clear":
            allow("POST")
            self.log.clear()
            return 200, {"cleared": True}
        raise ApiError(404, "not_found", f"no emulator endpoint {path}")


def make_handler(emu):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive; every answer has a Content-Length (or is a 304)
        disable_nagle_algorithm = True  # TCP_NODELAY: headers and body are separate writes
        timeout = 30  # idle keep-alive connections are closed after this many seconds
        server_version = "inventory-source-emulator"
        sys_version = ""

        def log_message(self, fmt, *args):  # quiet: the request log is the record
            pass

        def date_time_string(self, timestamp=None):
            # Date follows the emulator's clock, so Last-Modified is never later than Date
            # (RFC 9110 8.8.2.1) when the clock is set.
            return http_date(emu.clock.now() if timestamp is None else timestamp)

        def setup(self):
            # TLS handshake here, in the handler's thread (see Server.get_request).
            if isinstance(self.request, ssl.SSLSocket):
                self.request.settimeout(self.timeout)
                self.request.do_handshake()
            super().setup()

        def send_error(self, code, message=None, explain=None):
            # http.server's own errors (bad request line, unsupported method ...), as JSON.
            try:
                phrase = HTTPStatus(code).phrase
            except ValueError:
                phrase = ""
            data = json.dumps({"error": f"http_{code}", "message": message or phrase}).encode("utf-8")
            self.close_connection = True
            self.send_response(code, message)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD" and code >= 200:
                self.wfile.write(data)

        def read_body(self):
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                data = bytearray()
                while True:
                    line = self.rfile.readline(1024)
                    size = int(line.split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(data)
                    if len(data) + size > MAX_BODY:
                        raise ApiError(413, "too_large", "request body too large")
                    data += self.rfile.read(size)
                    self.rfile.readline(1024)
            length = self.headers.get("Content-Length")
            if not length:
                return b""
            if not length.isdigit():
                raise ApiError(400, "bad_request", "bad Content-Length")
            n = int(length)
            if n > MAX_BODY:
                raise ApiError(413, "too_large", "request body too large")
            return self.rfile.read(n)

        def answer(self, status, data, headers, content_type):
            """Sends one answer; returns the number of body bytes written."""
            if self.entry is not None:
                emu.log.answer_begins(self.entry["seq"])
            self.send_response(status)
            if status != 304:
                if content_type:
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            if self.command == "HEAD" or status == 304:
                return 0
            self.wfile.write(data)
            return len(data)

        def drop(self):
            try:
                self.wfile.flush()
            except OSError:
                pass
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True

        def handle_any(self):
            t0 = time.monotonic()
            self.entry = None  # set once this request has a log entry (control requests have none)
            url = urllib.parse.urlsplit(self.path)
            path = urllib.parse.unquote(url.path)
            if path == "/_emulator" or path.startswith("/_emulator/"):
                try:
                    try:
                        body = self.read_body()
                    except (ApiError, ValueError):
                        self.close_connection = True  # the rest of the body is still on the wire
                        raise
                    status, out = emu.control(self.command, path, url.query, body)
                    headers = {}
                except ApiError as e:
                    status, out, headers = e.status, json.loads(e.body()), e.headers
                except Exception as e:  # an emulator bug: say so loudly
                    traceback.print_exc()
                    status, out, headers = 500, {"error": "emulator_error", "message": str(e)}, {}
                if isinstance(out, str):
                    return self.answer(status, out.encode("utf-8"), headers, "text/plain; charset=utf-8")
                return self.answer(status, json.dumps(out).encode("utf-8"), headers, "application/json")

            entry = {"seq": emu.log.next_seq(), "time": round(time.time(), 6),
                     "clock": format_rfc3339(int(emu.clock.now())), "method": self.command, "path": path,
                     "query": url.query, "if_none_match": self.headers.get("If-None-Match"),
                     "if_modified_since": self.headers.get("If-Modified-Since"),
                     "authorization": self.headers.get("Authorization") is not None,
                     "user_agent": self.headers.get("User-Agent"), "status": None, "bytes": 0}
            self.entry = entry
            try:
                self.read_body()  # a GET body is read and ignored, to keep the connection in step
            except (ApiError, ValueError):
                self.close_connection = True
            redirect = emu.redirect_for(path)
            if redirect:
                entry["status"], entry["redirect"] = redirect  # the status and the Location
                try:
                    entry["bytes"] = self.answer(redirect[0], b"", {"Location": redirect[1]}, None)
                finally:
                    entry["duration_ms"] = round((time.monotonic() - t0) * 1000, 3)
                    emu.log.record(entry)
                return
            rule = emu.faults.take(path)
            if rule:
                entry["fault"] = {k: v for k, v in rule.items() if v not in (None, False, 0) and k != "count"}
                if rule["delay_ms"]:
                    time.sleep(rule["delay_ms"] / 1000.0)
                if rule["drop_connection"]:
                    entry["duration_ms"] = round((time.monotonic() - t0) * 1000, 3)
                    emu.log.record(entry)
                    return self.drop()
            ctype = "application/json"
            try:
                if rule and rule["status"]:
                    st = rule["status"]
                    h = {"Retry-After": str(rule["retry_after"])} if rule["retry_after"] is not None else {}
                    raise ApiError(st, FAULT_CODES.get(st, f"http_{st}"), "injected fault", headers=h)
                status, data, headers, ctype = emu.route(self, self.command, path, url.query, entry)
            except ApiError as e:
                status, data, headers = e.status, e.body(), e.headers
                entry["error"] = e.message
            except Exception as e:  # an emulator bug: say so loudly
                traceback.print_exc()
                status, data, headers = 500, ApiError(500, "emulator_error", str(e)).body(), {}
            entry["status"] = status
            if rule and rule["malformed_json"] and data:
                data = data[: max(1, len(data) // 2)]
            if rule and rule["drop_mid_body"] and status != 304:
                emu.log.answer_begins(entry["seq"])
                try:
                    self.send_response(status)
                    if ctype:
                        self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if self.command != "HEAD":
                        sent = max(1, len(data) // 2) if data else 0
                        self.wfile.write(data[:sent])
                        entry["bytes"] = sent
                finally:
                    entry["duration_ms"] = round((time.monotonic() - t0) * 1000, 3)
                    emu.log.record(entry)
                return self.drop()
            try:
                entry["bytes"] = self.answer(status, data, headers, ctype)
            finally:
                entry["duration_ms"] = round((time.monotonic() - t0) * 1000, 3)
                emu.log.record(entry)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, context):
        self.context = context
        super().__init__(addr, handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.context is None:
            return sock, addr
        # The handshake is deferred to the handler's thread (Handler.setup), so a slow client or
        # one that rejects the certificate cannot stall the accept loop.
        return self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), addr

    def handle_error(self, request, client_address):
        # Handshake failures and dropped connections are expected in the TLS and fault tests.
        exc = sys.exc_info()[1]
        if isinstance(exc, (ssl.SSLError, ConnectionError, OSError)):
            return
        super().handle_error(request, client_address)


def read_secret(path, option, strip_all):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise SystemExit(f"{option}: cannot read {path}: {e.strerror}")
    secret = text.strip() if strip_all else text.rstrip("\r\n")
    if not secret:
        raise SystemExit(f"{option}: {path} is empty")
    return secret


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Emulator of PackageBee's HTTP warehouse sources: CSV feeds and a paged JSON inventory API "
                    "(tests only). See tests/emulators/README.md.")
    g = ap.add_argument_group("server")
    g.add_argument("--host", default="127.0.0.1")
    g.add_argument("--port", type=int, default=0, help="0 (default): a free port, reported in --port-file")
    g.add_argument("--port-file", help="the port is written here (atomically) once listening")
    g.add_argument("--tls-cert", "--cert", dest="tls_cert", help="PEM certificate (chain): serve HTTPS")
    g.add_argument("--tls-key", "--key", dest="tls_key", help="PEM private key for --tls-cert")
    g.add_argument("--request-log", metavar="FILE", help="also append the request log here (JSON lines)")
    g.add_argument("--max-log-entries", type=int, default=200000, help="kept in memory (default 200000)")
    g = ap.add_argument_group("data")
    g.add_argument("--generate", type=int, default=0, metavar="N",
                   help="start with N items SKU-0000001.. (quantity i %% 1000, location east/west)")
    g.add_argument("--seed", action="append", default=[], metavar="FILE",
                   help='items: JSON {"items": [...]} as for POST /_emulator/items, or CSV sku,quantity[,location][,updated_at]')
    g.add_argument("--csv-feed", action="append", default=[], metavar="NAME=FILE",
                   help="serve FILE's bytes at /feeds/NAME.csv from the start")
    g.add_argument("--clock", metavar="RFC3339", help="freeze the emulator's clock at this time (default: wall clock)")
    g = ap.add_argument_group("item shape")
    g.add_argument("--sku-field", default="sku", help="dotted path (default sku)")
    g.add_argument("--quantity-field", default="stock.available", help="dotted path (default stock.available)")
    g.add_argument("--location-field", default="location", help="dotted path, '' to leave out (default location)")
    g.add_argument("--updated-at-field", default="updated_at", help="dotted path, '' to leave out (default updated_at)")
    g.add_argument("--items-key", default="items", help="dotted path of the item list in the body (default items)")
    g.add_argument("--bare-array", action="store_true", help="the body is the JSON array of items itself")
    g = ap.add_argument_group("paging")
    g.add_argument("--paging", choices=PAGING_MODES, default="page")
    g.add_argument("--default-page-size", type=int, default=50)
    g.add_argument("--max-page-size", type=int, default=100, help="larger requested sizes are cut to this")
    g.add_argument("--page-param", default="page")
    g.add_argument("--size-param", default=None, help="default: per_page (page paging), limit (the others)")
    g.add_argument("--offset-param", default="offset")
    g.add_argument("--cursor-param", default="cursor")
    g.add_argument("--cursor-field", default="next_cursor", help="dotted path of the next cursor in the body")
    g.add_argument("--token-param", default="page_token", help="query parameter of the next-page URLs (link paging)")
    g.add_argument("--since-param", default="updated_since")
    g.add_argument("--snapshot-paging", action="store_true",
                   help="cursor/link paging: each listing pages through a snapshot taken at its first page")
    g.add_argument("--max-snapshots", type=int, default=8, help="snapshots kept (LRU); older cursors get 400")
    g.add_argument("--strict-params", action="store_true", help="unknown query parameters are 400 (default: ignored)")
    g = ap.add_argument_group("authentication (default: none)")
    g.add_argument("--bearer-token-file", metavar="F", help="require Authorization: Bearer <the token in F>")
    g.add_argument("--basic-user", metavar="U", help="require HTTP Basic auth as U ...")
    g.add_argument("--basic-password-file", metavar="F", help="... with the password in F")
    g.add_argument("--auth-feeds", action="store_true", help="the CSV feeds need the credentials too")
    g = ap.add_argument_group("redirects (default: none)")
    g.add_argument("--redirect", action="append", default=[], metavar="PATH=LOCATION",
                   help="answer requests for PATH with a redirect to LOCATION (absolute or relative)")
    g.add_argument("--redirect-status", type=int, default=302, choices=(301, 302, 303, 307, 308),
                   help="the status of the --redirect answers (default 302)")
    a = ap.parse_args(argv)

    if bool(a.tls_cert) != bool(a.tls_key):
        ap.error("--tls-cert and --tls-key go together")
    if bool(a.basic_user) != bool(a.basic_password_file):
        ap.error("--basic-user and --basic-password-file go together")
    if a.bearer_token_file and a.basic_user:
        ap.error("choose one of --bearer-token-file and --basic-user")
    if a.auth_feeds and not (a.bearer_token_file or a.basic_user):
        ap.error("--auth-feeds needs --bearer-token-file or --basic-user")
    if a.bare_array and a.paging == "cursor":
        ap.error("--bare-array has no place for the next cursor: use another --paging")
    if a.snapshot_paging and a.paging not in ("cursor", "link"):
        ap.error("--snapshot-paging needs --paging cursor or link (page and offset requests carry no "
                 "cursor to pin a snapshot to)")
    if not 1 <= a.max_page_size or not 1 <= a.default_page_size:
        ap.error("page sizes are 1 or more")
    a.default_page_size = min(a.default_page_size, a.max_page_size)
    if a.max_snapshots < 1 or a.max_log_entries < 1 or a.generate < 0:
        ap.error("--max-snapshots and --max-log-entries are 1 or more, --generate 0 or more")
    try:
        a.sku_field = parse_path(a.sku_field, "--sku-field")
        a.quantity_field = parse_path(a.quantity_field, "--quantity-field")
        a.location_field = parse_path(a.location_field, "--location-field") if a.location_field else None
        a.updated_at_field = parse_path(a.updated_at_field, "--updated-at-field") if a.updated_at_field else None
        check_disjoint([("--sku-field", a.sku_field), ("--quantity-field", a.quantity_field),
                        ("--location-field", a.location_field), ("--updated-at-field", a.updated_at_field)])
        a.items_key = parse_path(a.items_key, "--items-key")
        a.cursor_field = parse_path(a.cursor_field, "--cursor-field") if a.paging == "cursor" else None
        check_disjoint([("--items-key", a.items_key), ("--cursor-field", a.cursor_field)])
    except ValueError as e:
        ap.error(str(e))

    clock = Clock()
    if a.clock:
        try:
            clock.set(parse_rfc3339(a.clock))
        except ValueError as e:
            ap.error(f"--clock: {e}")

    secrets = {"all": []}
    if a.bearer_token_file:
        token = read_secret(a.bearer_token_file, "--bearer-token-file", strip_all=True)
        secrets = {"auth": ("bearer", token), "all": [token]}
    elif a.basic_user:
        pw = read_secret(a.basic_password_file, "--basic-password-file", strip_all=False)
        secrets = {"auth": ("basic", a.basic_user, pw),
                   "all": [pw, base64.b64encode(f"{a.basic_user}:{pw}".encode("utf-8")).decode("ascii")]}

    store = Store()
    if a.generate:
        store.generate(a.generate, clock.now())
    for path in a.seed:
        try:
            updates = load_seed(path)
        except (OSError, ValueError, KeyError, ApiError) as e:
            ap.error(f"--seed {path}: {getattr(e, 'message', e)}")
        store.apply(updates, False, [], clock.now())

    context = None
    if a.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(a.tls_cert, a.tls_key)
    try:
        emu = Emulator(a, store, clock, secrets, tls=context is not None)
    except ValueError as e:
        ap.error(str(e))
    for spec in a.csv_feed:
        name, sep, path = spec.partition("=")
        if not sep or not FEED_NAME.match(name):
            ap.error("--csv-feed wants NAME=FILE (NAME: letters, digits, '.', '_', '-')")
        with open(path, "rb") as f:
            emu.set_feed(name, f.read())

    server = Server((a.host, a.port), make_handler(emu), context)
    port = server.server_address[1]
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, a.port_file)
    print(f"inventory source emulator listening on {'https' if context else 'http'}://{a.host}:{port} "
          f"({a.paging} paging, {len(store.items)} items)", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
