#!/usr/bin/env python3
"""How fast beed answers `status` while a big Full Sync runs (a benchmark: it prints figures).

  python3 bench/status_latency.py [--skus 1000000] [--requests 2000] [--interval-ms 5]

One connection with a generated CSV feed of --skus SKUs. beed is started and its first
automatic Full Sync awaited; then, for each client variant, a new feed with every quantity
changed is dropped in, `full-sync` is requested (without waiting), and while that run is in
flight a client speaking the control protocol directly over the Unix socket sends `status`
requests and times each one, until the run ends (or --requests were sent):

  per-request   one connection per request (connect, send, read the reply, close): as beectl
  reused        one connection for every request

Requests go every --interval-ms (0: back to back); a latency is measured from the client's
connect (per-request) or send (reused) to the whole reply being read. The client waits for
each reply, so a stall of beed's event loop yields one slow sample however long it lasts: with
a fixed interval the figures are also given corrected for that (coordinated omission), as
requests sent on schedule would have seen them, with the share of the run during which a
request would have waited more than 50 ms. Each sample is filed
under the phase the reply reports for the run (`progress.phase`: queued, reading, detecting,
pushing, recording). A last run times `beectl --json status` as a whole process (process start
included). Before any of that, the same clients sample a beed at rest, for comparison.

With --http PORT, beed also runs its HTTP listener (daemon.http.listen) and a thread fetches
/metrics every --scrape-interval seconds throughout (far more often than Prometheus would), to
measure the listener's overhead against a run without it. --kind smart with --changed-percent 1
times Smart Syncs of a 1% change instead of Full Syncs of every SKU. With --web as well, a
second thread plays the heaviest dashboard user: it walks the whole catalogue through the JSON
API (GET /api/v1/connections/big/inventory?limit=500, following next_after, from the start
again at the end) back to back, with GET /api/v1/connections every tenth request, throughout;
--web-interval S paces it to one request every S seconds instead (an open dashboard polls every 3 s).

Target (docs/PERFORMANCE.md): p99 <= 50 ms during the run (judged both as sampled and
corrected). Exit status: 0 when figures were
printed (met or not), 1 on a broken setup.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import beedbench as bb  # noqa: E402

P99_TARGET_MS = 50.0
PHASES = ["queued", "reading", "detecting", "pushing", "recording", "ended"]


def write_feed(path, skus, generation, every=1):
    """Quantity of SKU i in generation g: (i * 7919 + g) % 500, so every one changes; with
    `every` > 1 only every `every`th SKU takes generation g, the others keep generation 0."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("sku,quantity\n")
        step = 100_000
        for start in range(0, skus, step):
            f.write("".join(f"SKU-{i:07d},{(i * 7919 + (generation if i % every == 0 else 0)) % 500}\n"
                            for i in range(start, min(skus, start + step))))
    os.replace(tmp, path)  # beed never reads half a feed


def write_config(root, http_port=0):
    os.makedirs(os.path.join(root, "feeds"))
    os.makedirs(os.path.join(root, "out"))
    config = os.path.join(root, "packagebee.yaml")
    with open(config, "w") as f:
        http = f", http: {{listen: \"127.0.0.1:{http_port}\"}}" if http_port else ""
        f.write("daemon: {socket: beed.sock, state_dir: state, log_level: warning, "
                f"max_concurrent_syncs: 4{http}}}\n"
                "connections:\n"
                "  big:\n"
                "    warehouse: {type: csv, path: feeds/big.csv}\n"
                "    store: {type: csv, path: out/big.csv}\n"
                "    inventory: {schedule: 60m}\n")
    return config, os.path.join(root, "feeds", "big.csv")


def phase_of(status, run_id):
    """The phase of run `run_id` in a status reply, or 'ended' once it has finished."""
    c = status["connections"][0]
    p = c.get("progress")
    if p and p.get("run_id") == run_id:
        return p["phase"]
    last = c.get("last_sync")
    if last and last["id"] >= run_id and last["result"] != "running":
        return "ended"
    return "queued"  # accepted, not yet in flight


def wait_run_end(sock, run_id, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if phase_of(bb.request_once(sock, "status"), run_id) == "ended":
            return
        time.sleep(0.1)
    raise bb.SetupError(f"run {run_id} did not end within {timeout:.0f} s")


def run_record(sock, run_id):
    runs = bb.request_once(sock, "history", {"connection": "big", "limit": 5})["runs"]
    for r in runs:
        if r["id"] == run_id:
            return r
    raise bb.SetupError(f"run {run_id} is not in the history")


class Sampler:
    """Sends `status` and times it, over a new connection per request or a reused one."""

    def __init__(self, sock, reuse):
        self.sock, self.reuse = sock, reuse
        self.conn = bb.Control(sock) if reuse else None
        self.frame = bb.encode_request("status")

    def close(self):
        if self.conn:
            self.conn.close()

    def one(self):
        if self.reuse:
            t0 = time.perf_counter()
            self.conn.sock.sendall(self.frame)
            reply = self.conn.reply()
        else:
            t0 = time.perf_counter()
            with bb.Control(self.sock) as c:
                c.sock.sendall(self.frame)
                reply = c.reply()
        ms = (time.perf_counter() - t0) * 1000.0
        if reply.get("status") != "ok":
            raise bb.SetupError(f"status failed: {reply}")
        return ms, reply["data"]


def sample_run(sock, run_id, reuse, interval_ms, max_requests, t_run):
    """Samples until run `run_id` ends; returns [(t since request, ms, phase)] and whether
    the request cap cut the sampling short."""
    s = Sampler(sock, reuse)
    samples = []
    capped = False
    try:
        next_at = time.monotonic()
        while True:
            if len(samples) >= max_requests:
                capped = True
                break
            t = time.monotonic()
            ms, data = s.one()
            phase = phase_of(data, run_id)
            samples.append((t - t_run, ms, phase))
            if phase == "ended":
                break
            if interval_ms > 0:
                next_at += interval_ms / 1000.0
                delay = next_at - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                else:
                    next_at = time.monotonic()  # fell behind (a slow reply): no burst
    finally:
        s.close()
    return samples, capped


def sample_rest(sock, reuse, n):
    s = Sampler(sock, reuse)
    try:
        return [s.one()[0] for _ in range(n)]
    finally:
        s.close()


def sample_beectl(beectl, sock, run_id, interval_s, t_run, max_runs=200):
    samples = []
    while len(samples) < max_runs:
        t = time.monotonic()
        t0 = time.perf_counter()
        p = subprocess.run([beectl, "--socket", sock, "--json", "status"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ms = (time.perf_counter() - t0) * 1000.0
        if p.returncode != 0:
            raise bb.SetupError(f"beectl status exited {p.returncode}: {p.stderr.strip()}")
        phase = phase_of(json.loads(p.stdout), run_id)
        samples.append((t - t_run, ms, phase))
        if phase == "ended":
            break
        time.sleep(interval_s)
    return samples


def corrected(samples_ms, interval_ms):
    """Latencies as requests sent on schedule every interval_ms would have seen them: a reply
    that took L ms also stood in the way of the requests due during it, which would have
    waited L - interval, L - 2 * interval, ... ms (HdrHistogram's correction for coordinated
    omission). A closed-loop client sends nothing while beed stalls, so without this a stall
    of 300 ms counts once however long it is."""
    out = []
    for ms in samples_ms:
        out.append(ms)
        if interval_ms > 0:
            missed = ms - interval_ms
            while missed > 0:
                out.append(missed)
                missed -= interval_ms
    return out


class Scraper:
    """GET /metrics every `interval` seconds on a thread until close(); counts and times them."""

    def __init__(self, port, interval):
        import threading
        self.port, self.interval, self.times, self.failures = port, interval, [], 0
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        import http.client
        while not self.done.wait(self.interval):
            t = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                c.request("GET", "/metrics")
                body = c.getresponse().read()
                c.close()
                if b"packagebee_build_info" in body:
                    self.times.append((time.monotonic() - t) * 1000.0)
                    continue
            except OSError:
                pass
            self.failures += 1

    def close(self):
        self.done.set()
        self.thread.join()
        return self.times, self.failures


class WebReader(Scraper):
    """Pages through the catalogue over /api/v1 back to back on a thread until close()."""

    def __init__(self, port, interval=0.0):
        self.pages = 0
        super().__init__(port, interval)

    def loop(self):
        import http.client
        import urllib.parse
        after, n = None, 0
        while not self.done.wait(self.interval):
            n += 1
            path = "/api/v1/connections"
            if n % 10:
                path += "/big/inventory?limit=500"
                if after:
                    path += "&after=" + urllib.parse.quote(after)
            t = time.monotonic()
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                c.request("GET", path)
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200:
                    self.times.append((time.monotonic() - t) * 1000.0)
                    if n % 10:
                        self.pages += 1
                        after = json.loads(body).get("next_after")
                    continue
            except OSError:
                pass
            self.failures += 1


def stalled_share(samples_ms, run_ms, bound_ms=P99_TARGET_MS):
    """Share of the run during which a new request would have waited more than bound_ms."""
    return sum(max(0.0, ms - bound_ms) for ms in samples_ms) / run_ms if run_ms else 0.0


def stats(values):
    v = sorted(values)
    if not v:
        return ["0", "-", "-", "-", "-"]
    return [f"{len(v):,}", f"{bb.percentile(v, 50):.2f}", f"{bb.percentile(v, 90):.2f}",
            f"{bb.percentile(v, 99):.2f}", f"{v[-1]:.2f}"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--skus", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=2000,
                    help="at most this many status requests per variant and run")
    ap.add_argument("--interval-ms", type=float, default=5.0,
                    help="one request every this many ms (0: back to back)")
    ap.add_argument("--variants", default="per-request,reused",
                    help="comma-separated: per-request, reused")
    ap.add_argument("--beectl-runs", type=int, default=1,
                    help="Full Syncs during which `beectl status` is timed (0: skip)")
    ap.add_argument("--beectl-interval", type=float, default=0.25,
                    help="seconds between two `beectl status` processes")
    ap.add_argument("--rest-requests", type=int, default=200,
                    help="status requests per variant with beed at rest, for comparison")
    ap.add_argument("--worst", type=int, default=8, help="list this many slowest samples")
    ap.add_argument("--run-timeout", type=float, default=900.0)
    ap.add_argument("--http", type=int, default=0, metavar="PORT",
                    help="enable beed's HTTP listener on 127.0.0.1:PORT and scrape /metrics")
    ap.add_argument("--scrape-interval", type=float, default=1.0)
    ap.add_argument("--web", action="store_true",
                    help="with --http, also page through the catalogue over /api/v1 throughout")
    ap.add_argument("--web-interval", type=float, default=0.0,
                    help="seconds between --web's requests (0: back to back)")
    ap.add_argument("--kind", choices=("full", "smart"), default="full",
                    help="the runs sampled: full-sync or sync (Smart)")
    ap.add_argument("--changed-percent", type=float, default=100.0,
                    help="share of the SKUs each new feed changes")
    bb.add_common_args(ap)
    a = ap.parse_args()
    variants = [v.strip() for v in a.variants.split(",") if v.strip()]
    for v in variants:
        if v not in ("per-request", "reused"):
            ap.error(f"unknown variant {v!r}")

    try:
        beed_bin = bb.find_binary(a.build_dir, "beed")
        beectl_bin = bb.find_binary(a.build_dir, "beectl") if a.beectl_runs > 0 else None
    except bb.SetupError as e:
        print(f"status_latency: {e}", file=sys.stderr)
        return 1
    ws = bb.Workspace("pb-status-", keep=a.keep, path=a.dir)
    beed = None
    try:
        config, feed = write_config(ws.path, a.http)
        every = max(1, round(100.0 / a.changed_percent))
        expect_changed = len(range(0, a.skus, every))
        sock = os.path.join(ws.path, "beed.sock")
        pacing = f"every {a.interval_ms:g} ms" if a.interval_ms > 0 else "back to back"
        print(f"status_latency: {a.skus:,} SKUs, status {pacing}, at most {a.requests:,} "
              f"requests per variant, in {ws.path}")
        print(f"beed: {beed_bin}; load average at start: {bb.loadavg()}")
        t0 = time.monotonic()
        generation = 0
        write_feed(feed, a.skus, generation)
        print(f"feed written in {time.monotonic() - t0:.1f} s "
              f"({os.path.getsize(feed) / 1e6:.0f} MB)", flush=True)

        beed = bb.Beed(beed_bin, config, os.path.join(ws.path, "beed.log")).start()
        bb.wait_for_socket(beed, sock, timeout=60)
        scraper = Scraper(a.http, a.scrape_interval) if a.http else None
        web = WebReader(a.http, a.web_interval) if a.http and a.web else None
        wait_run_end(sock, 1, a.run_timeout)  # the first automatic Full Sync is run 1
        first = run_record(sock, 1)
        if first["result"] != "ok":
            raise bb.SetupError(f"the first Full Sync ended {first['result']}: {first['error']}")
        print(f"first automatic Full Sync: {first['duration_ms'] / 1000:.2f} s, "
              f"read {first['read']:,}, pushed {first['pushed']:,} "
              f"(load average {bb.loadavg()})", flush=True)

        results = []  # (label, samples, run record, load average, capped)
        rest = []
        for v in variants:
            if a.rest_requests > 0:
                rest.append((v, sample_rest(sock, v == "reused", a.rest_requests)))

        def start_run():
            nonlocal generation
            generation += 1
            write_feed(feed, a.skus, generation, every)
            time.sleep(0.05)
            with bb.Control(sock) as c:
                t_run = time.monotonic()
                d = c.request("full-sync" if a.kind == "full" else "sync", {"connection": "big"})
            return d["run_id"], t_run

        for v in variants:
            beed.check_alive()
            run_id, t_run = start_run()
            samples, capped = sample_run(sock, run_id, v == "reused", a.interval_ms,
                                         a.requests, t_run)
            load = bb.loadavg()
            if capped:
                wait_run_end(sock, run_id, a.run_timeout)
            rec = run_record(sock, run_id)
            if rec["result"] != "ok" or rec["changed"] != expect_changed:
                raise bb.SetupError(f"run {run_id}: {rec['result']}, changed {rec['changed']} "
                                    f"of {a.skus}: {rec['error']}")
            results.append((v, samples, rec, load, capped))
            print(f"  {v}: run {run_id} took {rec['duration_ms'] / 1000:.2f} s, "
                  f"{len(samples):,} status samples{' (cap reached)' if capped else ''}, "
                  f"load average {load}", flush=True)

        for _ in range(a.beectl_runs):
            beed.check_alive()
            run_id, t_run = start_run()
            samples = sample_beectl(beectl_bin, sock, run_id, a.beectl_interval, t_run)
            load = bb.loadavg()
            wait_run_end(sock, run_id, a.run_timeout)
            rec = run_record(sock, run_id)
            results.append(("beectl process", samples, rec, load, False))
            print(f"  beectl: run {run_id} took {rec['duration_ms'] / 1000:.2f} s, "
                  f"{len(samples)} beectl runs, load average {load}", flush=True)

        # ------------------------------------------------------------------- figures
        print(f"\nstatus latency in ms while a {a.kind} sync of "
              f"{a.skus:,} SKUs ({a.changed_percent:g}% changed) runs:\n")
        rows = []
        for label, samples, rec, load, capped in results:
            rows.append([label, f"{rec['duration_ms'] / 1000:.2f}"] +
                        stats([ms for _, ms, _ in samples]) + [load])
        for label, ms in rest:
            rows.append([f"{label}, beed at rest", "-"] + stats(ms) + [bb.loadavg()])
        print(bb.table(["client", "run s", "count", "p50", "p90", "p99", "max",
                        "load average"], rows))
        with open(f"/proc/{beed.pid}/stat") as f:
            ticks = sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        print(f"\nbeed CPU since its start (utime+stime): {ticks / os.sysconf('SC_CLK_TCK'):.2f} s")
        if web:
            times, failures = web.close()
            pacing = f"every {a.web_interval:g} s" if a.web_interval else "back to back"
            print(f"\n/api/v1 read {pacing}: {len(times)} requests ({web.pages} inventory pages "
                  f"of 500), {failures} failed; ms " + " ".join(stats(times)[1:]) +
                  " (p50 p90 p99 max)")
        if scraper:
            times, failures = scraper.close()
            print(f"\n/metrics scraped every {a.scrape_interval:g} s: {len(times)} scrapes, "
                  f"{failures} failed; ms " + " ".join(stats(times)[1:]) + " (p50 p90 p99 max)")

        if a.interval_ms > 0:
            print(f"\nthe same, corrected for coordinated omission (the requests due every "
                  f"{a.interval_ms:g} ms while a reply was late counted as waiting too), and "
                  f"the share of the run\nduring which a new request would have waited more "
                  f"than {P99_TARGET_MS:.0f} ms:\n")
            rows = []
            for label, samples, rec, load, capped in results:
                if label == "beectl process":
                    continue
                ms = [m for _, m, _ in samples]
                rows.append([label] + stats(corrected(ms, a.interval_ms)) +
                            [f"{100 * stalled_share(ms, rec['duration_ms']):.1f} %"])
            print(bb.table(["client", "count", "p50", "p90", "p99", "max",
                            f"run time > {P99_TARGET_MS:.0f} ms"], rows))

        print("\nsamples by phase of the run (count / p50 / p99 / max ms):\n")
        rows = []
        for label, samples, _, _, _ in results:
            row = [label]
            for ph in PHASES:
                ms = [m for _, m, p in samples if p == ph]
                st = stats(ms)
                row.append(f"{st[0]} / {st[1]} / {st[3]} / {st[4]}" if ms else "0")
            rows.append(row)
        print(bb.table(["client"] + PHASES, rows))

        if a.worst > 0:
            print(f"\nslowest {a.worst} samples per client (s after the request, ms, phase):")
            for label, samples, _, _, _ in results:
                worst = sorted(samples, key=lambda s: -s[1])[:a.worst]
                print(f"  {label}: " + ", ".join(f"{t:.2f}s {ms:.0f}ms {p}"
                                                 for t, ms, p in sorted(worst)))

        print()
        for label, samples, _, _, capped in results:
            if label == "beectl process":
                continue
            ms = [m for _, m, _ in samples]
            p99 = bb.percentile(sorted(ms), 99)
            line = (f"target p99 <= {P99_TARGET_MS:.0f} ms ({label}): "
                    f"{'met' if p99 <= P99_TARGET_MS else 'MISSED'} ({p99:.1f} ms as sampled")
            if a.interval_ms > 0:
                p99c = bb.percentile(sorted(corrected(ms, a.interval_ms)), 99)
                line += (f"; {'met' if p99c <= P99_TARGET_MS else 'MISSED'} corrected for "
                         f"coordinated omission: {p99c:.1f} ms")
            line += ")"
            if capped:
                line += "; sampling stopped at the request cap before the run ended"
            print(line)
        return 0
    except bb.SetupError as e:
        print(f"status_latency: broken setup: {e}", file=sys.stderr)
        if beed:
            print(beed.log_tail(), file=sys.stderr)
        return 1
    except (OSError, bb.ProtocolError, socket.timeout) as e:
        print(f"status_latency: broken setup: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        if beed:
            beed.stop()
        ws.cleanup()
        if ws.keep:
            print(f"kept {ws.path}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # beed was stopped and the directory removed on the way out
        print("interrupted", file=sys.stderr)
        sys.exit(130)
