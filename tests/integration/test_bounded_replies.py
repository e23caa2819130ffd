#!/usr/bin/env python3
"""Large read replies stay bounded: `inventory` and `diff` come in pages (a stream of page
events with "stream": true), so a catalogue whose listing is far above the 16 MiB frame cap
lists in full, beed's memory does not follow the catalogue's size, a client that leaves stops
the work, and a --sku glob's cost is bounded.

One beed and one catalogue of N SKUs with long names (a single reply would be ~30 MB) serve
every test; the catalogue is built once with one Full Sync."""

import json
import os
import threading
import time
import unittest

import harness

N = 100_000
PREFIX = "A" * 60  # long SKUs, and a worst case for a backtracking glob matcher


def sku(i):
    return "%s-%06d" % (PREFIX, i)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class BoundedReplies(harness.BeeTestCase):
    env = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.case = BoundedReplies("run")
        cls.case.setUp()
        env = cls.case.make_env()
        env.write_config(connections={env.name: env.connection()})
        env.write_feed([(sku(i), i % 50) for i in range(N)])
        env.start()
        r = env.beectl("full-sync", env.name, "--wait", timeout=120)
        assert r.code == 0, r
        cls.env = env

    @classmethod
    def tearDownClass(cls):
        cls.case.tearDown()

    def run(self, result=None):  # the shared case above is not a test
        if self._testMethodName == "run":
            return None
        return super().run(result)

    # A raw request; returns the frames up to and with the reply.
    def frames(self, args, command="inventory"):
        s = harness.raw_connect(self.env.socket, timeout=60)
        s.sendall(harness.frame({"v": 1, "command": command,
                                 "args": dict({"connection": self.env.name}, **args)}))
        out = []
        while True:
            msg = harness.read_frame(s)
            self.assertIsNotNone(msg, "beed closed the connection")
            out.append(msg)
            if "event" not in msg:
                s.close()
                return out

    def test_full_inventory_lists_every_sku_once(self):
        r = self.env.beectl("inventory", self.env.name, "--limit", "0", timeout=60)
        self.assertEqual(r.code, 0, r)
        lines = r.stdout.splitlines()
        self.assertTrue(lines[0].startswith("SKU "), lines[0])
        skus = [line.split()[0] for line in lines[1:]]
        self.assertEqual(len(skus), N)
        self.assertEqual(skus, [sku(i) for i in range(N)])

        r = self.env.beectl("inventory", self.env.name, "--limit", "0", json_out=True, timeout=60)
        self.assertEqual(r.code, 0, r)
        data = json.loads(r.stdout)
        self.assertEqual([item["sku"] for item in data["items"]], [sku(i) for i in range(N)])
        self.assertEqual(data["truncated"], False)
        self.assertNotIn("next_after", data)  # only in a listing cut short

    def test_pages_are_bounded_and_streamed(self):
        frames = self.frames({"limit": 0, "stream": True})
        events, reply = frames[:-1], frames[-1]
        self.assertEqual(reply["status"], "ok", reply)
        self.assertGreater(len(events), 10)
        listed = []
        for e in events:
            self.assertEqual(e["event"], "items")
            self.assertLessEqual(len(e["data"]["items"]), 1000)
            self.assertLess(len(json.dumps(e)), 2 << 20)
            listed += [i["sku"] for i in e["data"]["items"]]
        listed += [i["sku"] for i in reply["data"]["items"]]
        self.assertEqual(listed, [sku(i) for i in range(N)])

    def test_one_page_replies_and_after(self):
        # What a beectl from before streams asks by default: one reply, as before.
        (reply,) = self.frames({})
        data = reply["data"]
        self.assertEqual(len(data["items"]), 1000)
        self.assertEqual(data["truncated"], True)
        self.assertEqual(data["next_after"], sku(999))
        # --limit 0 without a stream: one bounded page, and where to go on.
        (reply,) = self.frames({"limit": 0})
        data = reply["data"]
        self.assertTrue(0 < len(data["items"]) <= 1000)
        self.assertEqual(data["truncated"], True)
        (reply,) = self.frames({"limit": 3, "after": data["next_after"]})
        n = len(data["items"])
        self.assertEqual([i["sku"] for i in reply["data"]["items"]], [sku(n), sku(n + 1), sku(n + 2)])
        r = self.env.beectl("inventory", self.env.name, "--limit", "2", "--after", sku(N - 2),
                            json_out=True)
        self.assertEqual([i["sku"] for i in r.json["items"]], [sku(N - 1)])
        self.assertEqual(r.json["truncated"], False)

    def test_concurrent_full_reads_keep_memory_bounded(self):
        if harness.sanitized_build():
            # ASan's quarantine keeps what beed frees, and at its speed four streams of 100k SKUs
            # outlast the per-frame write timeout: a figure about memory means nothing there.
            self.skipTest("a memory measurement, meaningless under AddressSanitizer")
        pid = self.env.proc.pid
        before = rss_kb(pid)
        peak = [before]
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kb(pid))
                time.sleep(0.01)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            procs = [self.env.beectl_async("inventory", self.env.name, "--limit", "0")
                     for _ in range(4)]
            results = [self.env.finish_async(p, timeout=120) for p in procs]
        finally:
            stop.set()
            watcher.join()
        for r in results:
            self.assertEqual(r.code, 0, r.stderr)
            self.assertEqual(len(json.loads(r.stdout)["items"]), N)
        grown_mb = (peak[0] - before) / 1024
        print("beed VmRSS %d MB before, peak %d MB during 4 full reads" %
              (before // 1024, peak[0] // 1024))
        self.assertLess(grown_mb, 50)

    def test_a_client_that_leaves_stops_the_read(self):
        pid = self.env.proc.pid
        s = harness.raw_connect(self.env.socket)
        s.sendall(harness.frame({"v": 1, "command": "inventory",
                                 "args": {"connection": self.env.name, "limit": 0,
                                          "stream": True}}))
        first = harness.read_frame(s)
        self.assertEqual(first["event"], "items")
        s.close()
        time.sleep(0.5)
        start = cpu_s(pid)
        time.sleep(1.0)
        self.assertLess(cpu_s(pid) - start, 0.2, "beed kept working for a client that left")
        self.assertEqual(self.env.beectl("status").code, 0)

    def test_glob_bounds(self):
        r = self.env.beectl("inventory", self.env.name, "--sku", "*" * 17)
        self.assertEqual(r.code, 1, r)
        self.assertIn("at most 16", r.stderr)
        r = self.env.beectl("inventory", self.env.name, "--sku", "x" * 257)
        self.assertEqual(r.code, 1, r)
        self.assertIn("too long", r.stderr)
        # 16 stars over SKUs of 60 'A's: exponential for a backtracking matcher, linear here.
        t = time.monotonic()
        r = self.env.beectl("inventory", self.env.name, "--sku", "*A" * 15 + "*B", "--limit", "0",
                            json_out=True, timeout=30)
        self.assertEqual(r.code, 0, r)
        self.assertEqual(r.json["items"], [])
        r = self.env.beectl("inventory", self.env.name, "--sku", "*A" * 15 + "*-00001?",
                            json_out=True, timeout=30)
        self.assertEqual([i["sku"] for i in r.json["items"]], [sku(i) for i in range(10, 20)])
        self.assertLess(time.monotonic() - t, 20)

    def test_diff_pages(self):
        self.env.write_feed([(sku(i), i % 50 + 1) for i in range(N)])
        try:
            r = self.env.beectl("diff", self.env.name, "--limit", "0", timeout=60)
            self.assertEqual(r.code, 0, r)
            lines = r.stdout.splitlines()
            self.assertEqual(len(lines), N + 2, lines[-3:])
            self.assertEqual([line.split()[0] for line in lines[1:-1]], [sku(i) for i in range(N)])
            self.assertTrue(lines[-1].startswith("%d SKUs would be pushed" % N), lines[-1])
            r = self.env.beectl("diff", self.env.name, "--limit", "5", json_out=True, timeout=60)
            self.assertEqual(r.json["total"], N)
            self.assertEqual(r.json["truncated"], True)
            self.assertEqual(r.json["next_after"], sku(4))
            r = self.env.beectl("diff", self.env.name, "--limit", "2", "--after", sku(4),
                                json_out=True, timeout=60)
            self.assertEqual([c["sku"] for c in r.json["changes"]], [sku(5), sku(6)])
        finally:
            self.env.write_feed([(sku(i), i % 50) for i in range(N)])


if __name__ == "__main__":
    harness.main()
