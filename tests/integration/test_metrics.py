#!/usr/bin/env python3
"""GET /metrics on beed's HTTP listener (daemon.http.listen): the numbers move with Full and
Smart Syncs against the CSV store, the text is valid Prometheus exposition format, no SKU ever
becomes a label, counters survive a reload, and the listener's limits and config checks hold."""

import http.client
import os
import re
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import BeeTestCase, feed_fifo, feed_text, make_fifo, wait_for  # noqa: E402

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LABELS = {"connection", "kind", "trigger", "result", "state", "store", "outcome", "version", "le"}
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exported_names():
    with open(os.path.join(TOP, "lib", "metrics", "sync_metrics.hpp")) as f:
        text = f.read()
    block = text[text.index("kMetricNames[]"):]
    return set(re.findall(r'"([a-z_]+)"', block[:block.index("};")]))


def parse(text):
    """A tiny Prometheus text-format (0.0.4) parser: {family: {"type", "help", "samples":
    [(name, labels, value)]}}. Fails on any line it does not understand."""
    families = {}
    for n, line in enumerate(text.split("\n"), 1):
        if not line:
            continue
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            _, what, name, rest = (line.split(" ", 3) + [""])[:4]
            family = families.setdefault(name, {"type": None, "help": None, "samples": []})
            family["help" if what == "HELP" else "type"] = rest
            continue
        if line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, "line %d is not a sample: %r" % (n, line)
        name, labels_text, value = m.group(1), m.group(3) or "", m.group(4)
        labels = {}
        rest = labels_text
        while rest:
            lm = LABEL.match(rest)
            assert lm, "line %d: bad labels %r" % (n, labels_text)
            labels[lm.group(1)] = lm.group(2)
            rest = rest[lm.end():]
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        family = families.get(name) or families.get(base)
        assert family is not None, "line %d: %s has no # TYPE" % (n, name)
        family["samples"].append((name, labels, float(value)))
    for name, family in families.items():
        assert family["type"] in ("counter", "gauge", "histogram", "summary", "untyped"), name
        if family["type"] == "histogram":
            check_histogram(name, family["samples"])
    return families


def check_histogram(name, samples):
    series = {}
    for sample, labels, value in samples:
        key = tuple(sorted((k, v) for k, v in labels.items() if k != "le"))
        series.setdefault(key, {"buckets": [], "count": None})
        if sample.endswith("_bucket"):
            series[key]["buckets"].append((float(labels["le"]), value))
        elif sample.endswith("_count"):
            series[key]["count"] = value
    for key, s in series.items():
        counts = [v for _, v in sorted(s["buckets"])]
        assert counts == sorted(counts), "%s%s: buckets not cumulative" % (name, key)
        assert sorted(s["buckets"])[-1][0] == float("inf"), "%s%s: no +Inf bucket" % (name, key)
        assert counts[-1] == s["count"], "%s%s: +Inf bucket != count" % (name, key)


def value(families, name, **labels):
    """The sum of `name`'s samples whose labels include `labels`."""
    total = 0.0
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    for sample, have, v in families.get(base, {"samples": []})["samples"]:
        if sample == name and all(have.get(k) == x for k, x in labels.items()):
            total += v
    return total


class MetricsTest(BeeTestCase):
    def start_with_listener(self, env, connections, port=None):
        port = port or free_port()
        env.write_config(connections=connections,
                         daemon_extra={"http": {"listen": "127.0.0.1:%d" % port}})
        env.start()
        return port

    def get(self, port, path="/metrics", method="GET", headers=None, body=None):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, dict(r.getheaders()), data.decode()

    def scrape(self, port):
        status, headers, text = self.get(port)
        self.assertEqual(status, 200)
        self.assertTrue(headers["Content-Type"].startswith("text/plain; version=0.0.4"), headers)
        return parse(text), text

    def test_numbers_move_with_full_and_smart_syncs(self):
        env = self.make_env()
        fifo = make_fifo(os.path.join(env.root, "demo.fifo"))
        connection = env.connection(warehouse={"type": "csv", "path": "demo.fifo"})
        port = self.start_with_listener(env, {"demo": connection})

        # The first (automatic, Full) run waits on the FIFO: the listener answers meanwhile.
        wait_for(lambda: env.conn_status()["state"] == "syncing", what="the first run")
        during, _ = self.scrape(port)
        self.assertEqual(value(during, "packagebee_sync_running", connection="demo"), 1)
        self.assertEqual(value(during, "packagebee_sync_runs_total"), 0)
        self.assertEqual(value(during, "packagebee_sync_schedule_seconds", connection="demo"), 3600)
        self.assertEqual(value(during, "packagebee_build_info"), 1)
        self.assertIn("process_cpu_seconds_total", during)
        # Series labelled per run or per store request appear with the first of them (the CSV
        # store makes no HTTP requests); the others exist from the start.
        late = {"packagebee_sync_runs_total", "packagebee_sync_duration_seconds",
                "packagebee_store_requests_total", "packagebee_store_throttled_total",
                "packagebee_store_request_duration_seconds"}
        self.assertEqual(exported_names() - late - set(during), set(),
                         "families missing from /metrics")
        self.assertEqual({n for n in during if n.startswith("packagebee_")} - exported_names(),
                         set(), "families not in kMetricNames")

        skus = {"SKU-%03d" % i: i for i in range(50)}
        self.assertTrue(feed_fifo(fifo, feed_text(skus)))
        env.wait_run(1)
        after_first, _ = wait_for(lambda: self.settled(port, 50), what="50 settled SKUs")
        self.assertEqual(value(after_first, "packagebee_sync_runs_total", connection="demo",
                               kind="full", trigger="schedule", result="ok"), 1)
        self.assertEqual(value(after_first, "packagebee_skus_pushed_total", kind="full"), 50)
        self.assertEqual(value(after_first, "packagebee_sync_duration_seconds_count", kind="full"), 1)
        self.assertGreater(value(after_first, "packagebee_sync_last_success_timestamp_seconds"), 1.6e9)
        self.assertEqual(value(after_first, "packagebee_sync_running"), 0)

        # A manual Full Sync, then a Smart Sync with three changes and a bad row.
        p = env.beectl_async("full-sync", "demo", "--wait")
        self.assertTrue(feed_fifo(fifo, feed_text(skus)))
        self.assertEqual(env.finish_async(p).code, 0)
        changed = dict(skus, **{"SKU-001": 100, "SKU-002": 200, "SKU-003": 300})
        p = env.beectl_async("sync", "demo", "--wait")
        self.assertTrue(feed_fifo(fifo, feed_text(changed) + "SKU-BAD,many\n"))
        env.finish_async(p)
        env.wait_idle()

        after, text = self.scrape(port)
        self.assertEqual(value(after, "packagebee_sync_runs_total", kind="full", trigger="manual"), 1)
        self.assertEqual(value(after, "packagebee_sync_runs_total", kind="smart", trigger="manual"), 1)
        self.assertEqual(value(after, "packagebee_skus_pushed_total", kind="full"), 100)
        self.assertEqual(value(after, "packagebee_skus_pushed_total", kind="smart"), 3)
        self.assertEqual(value(after, "packagebee_feed_bad_rows_total", connection="demo"), 1)
        self.assertEqual(value(after, "packagebee_sync_duration_seconds_count"), 3)
        self.assertEqual(value(after, "packagebee_skus_rejected_total"), 0)

        # No SKU ever becomes a label; only the known label names appear.
        for family in after.values():
            for _, labels, _ in family["samples"]:
                self.assertLessEqual(set(labels), LABELS, labels)
                self.assertFalse(set(labels.values()) & (set(skus) | {"SKU-BAD"}), labels)
        self.assertNotIn("SKU-0", text)

        # A reload keeps the counters and takes the new schedule.
        connection["inventory"]["schedule"] = "30m"
        env.write_config(connections={"demo": connection},
                         daemon_extra={"http": {"listen": "127.0.0.1:%d" % port}})
        self.assertEqual(env.beectl("reload").code, 0)
        reloaded, _ = self.scrape(port)
        self.assertEqual(value(reloaded, "packagebee_sync_runs_total"), 3)
        self.assertEqual(value(reloaded, "packagebee_skus_pushed_total"), 103)
        self.assertEqual(value(reloaded, "packagebee_sync_schedule_seconds", connection="demo"), 1800)

        # Pausing shows at the next scrape.
        self.assertEqual(env.beectl("pause", "demo").code, 0)
        paused, _ = self.scrape(port)
        self.assertEqual(value(paused, "packagebee_connection_paused", connection="demo"), 1)

    def settled(self, port, n):
        families, text = self.scrape(port)
        if value(families, "packagebee_skus", connection="demo", state="settled") == n:
            return families, text
        return None

    def test_restart_keeps_the_last_success_time(self):
        env = self.make_env()
        env.write_feed({"A": 1, "B": 2})
        port = self.start_with_listener(env, {"demo": env.connection()})
        env.wait_run(1)
        first, _ = wait_for(lambda: self.settled(port, 2), what="2 settled SKUs")
        last_ok = value(first, "packagebee_sync_last_success_timestamp_seconds", connection="demo")
        self.assertGreater(last_ok, 0)
        self.assertEqual(env.stop(), 0)
        env.start()
        again, _ = wait_for(lambda: self.settled(port, 2), what="the counts after a restart")
        self.assertEqual(value(again, "packagebee_sync_last_success_timestamp_seconds",
                               connection="demo"), last_ok)
        self.assertEqual(value(again, "packagebee_sync_runs_total"), 0)  # counters restart at 0

    def test_listener_methods_paths_and_limits(self):
        env = self.make_env()
        env.write_feed({"A": 1})
        port = self.start_with_listener(env, {"demo": env.connection()})
        status, headers, body = self.get(port, method="HEAD")
        self.assertEqual((status, body), (200, ""))
        self.assertGreater(int(headers["Content-Length"]), 100)
        status, headers, _ = self.get(port, method="POST", body="x")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET, HEAD")
        self.assertEqual(self.get(port, path="/nope")[0], 404)
        self.assertEqual(self.get(port, headers={"X-Big": "a" * 20000})[0], 431)
        self.assertEqual(env.beectl("status").code, 0)  # the control socket is unaffected

    def test_config_checks(self):
        env = self.make_env()
        env.write_config(daemon_extra={"http": {"listen": "0.0.0.0:%d" % free_port()}})
        r = env.check_config()
        self.assertNotEqual(r.code, 0)
        self.assertIn("daemon.http.listen", r.stderr + r.stdout)
        self.assertIn("is not a loopback address", r.stderr + r.stdout)

        # A port in use: beed refuses to start and says why.
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            env.write_config(daemon_extra={"http": {"listen": "127.0.0.1:%d" % busy.getsockname()[1]}})
            env.write_feed({"A": 1})
            env.start(wait=False)
            self.assertNotEqual(env.proc.wait(timeout=20), 0)
            self.assertIn("cannot listen on http://127.0.0.1:", env.log_text())

    def test_no_listener_by_default(self):
        env = self.make_env()
        env.write_feed({"A": 1})
        env.write_config()
        env.start()
        self.assertNotIn("metrics at", env.log_text())


if __name__ == "__main__":
    harness.main()
