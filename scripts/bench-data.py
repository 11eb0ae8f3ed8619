#!/usr/bin/env python3
"""bench-data.py: loads a synthetic catalog and user histories into a running Quiver through the
public API, for the recommendation benchmarks (scripts/bench-recommend.sh).

  bench-data.py --url http://127.0.0.1:8080 --items 10000 --users 100000 --events-per-user 20

Items belong to 50 categories; users have 1-3 favourite categories; each event picks an item from
a favourite category with probability 0.8 (Zipf-like popularity within it), else from anywhere.
Deterministic (seed 7). Events carry timestamps over the last 30 days, sent in batches.
"""
import argparse, json, os, random, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from quiver_client import Client  # noqa: E402

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--items", type=int, default=10_000)
    p.add_argument("--users", type=int, default=100_000)
    p.add_argument("--events-per-user", type=int, default=20)
    p.add_argument("--batch", type=int, default=5_000)
    a = p.parse_args()
    call = Client(a.url).call
    rng = random.Random(7)
    categories = [f"cat{c}" for c in range(50)]
    by_category = {c: [] for c in categories}
    lines = []
    now = time.time()
    for i in range(a.items):
        c = categories[i % 50]
        by_category[c].append(f"item{i}")
        lines.append(json.dumps({"item_id": f"item{i}", "categories": [c], "tags": [f"t{i % 7}"],
                                 "attributes": {"price": float(5 + i % 100)}, "created_at": now - 86400 * 60 + i * 10}))
    for start in range(0, len(lines), 2000):  # bodies stay under server.limits.max_body_bytes
        call("POST", "/api/v1/items/import", "\n".join(lines[start:start + 2000]).encode(), "application/x-ndjson")
    all_items = [f"item{i}" for i in range(a.items)]
    def zipf_pick(seq):
        return seq[min(len(seq) - 1, int(rng.paretovariate(1.2)) - 1)]
    events, sent, start = [], 0, time.time()
    types = ["view"] * 6 + ["click"] * 3 + ["purchase"]
    for user in range(a.users):
        favourites = rng.sample(categories, rng.randint(1, 3))
        for e in range(a.events_per_user):
            item = zipf_pick(by_category[rng.choice(favourites)]) if rng.random() < 0.8 else rng.choice(all_items)
            events.append({"user_id": f"user{user}", "item_id": item, "type": rng.choice(types),
                           "timestamp": now - 86400 * 30 + rng.random() * 86400 * 30})
        if len(events) >= a.batch:
            call("POST", "/api/v1/events", json.dumps({"events": events}).encode()); sent += len(events); events = []
    if events:
        call("POST", "/api/v1/events", json.dumps({"events": events}).encode()); sent += len(events)
    print(json.dumps({"items": a.items, "users": a.users, "events": sent, "seconds": round(time.time() - start, 1)}))

if __name__ == "__main__":
    main()
