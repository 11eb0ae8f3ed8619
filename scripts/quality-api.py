#!/usr/bin/env python3
"""quality-api.py: MovieLens-100k through Quiver's public API, as a client would send it.

Protocol (issue 6, the same split as `quiver replay`): items with their genres are imported; the
events are sorted by time (stable); the first 80% are sent as a backfill with their own timestamps;
then for each later event: a `homepage` recommendation of 10 for the event's user "as of" the
event's time, then the event itself, then, when the event's item was in the list, the feedback
(click, reward 1) joined to that request. HR@10 and NDCG@10 count test events whose item the user
had not seen before (as the replay does).

Usage: scripts/quality-api.py --url http://127.0.0.1:8080 --data /tmp/quiver-data/ml-100k
       [--train-fraction 0.8] [--limit N] [--scenario homepage]
The server should be fresh (empty data directory). Prints one JSON object with the results.
"""
import argparse
import json
import math
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from quiver_client import Client, load_movielens  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--data", required=True, help="directory with ml-100k.inter and ml-100k.item")
    parser.add_argument("--train-fraction", type=float, default=0.8)
    parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N test events (0 = all)")
    parser.add_argument("--scenario", default="homepage")
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    client = Client(args.url)
    items, events = load_movielens(args.data)
    started = time.time()
    lines = "\n".join(json.dumps(item) for item in items).encode()
    client.call("POST", "/api/v1/items/import", lines, content_type="application/x-ndjson")
    split = int(len(events) * args.train_fraction)
    seen = {}
    for start in range(0, split, args.batch):
        chunk = events[start:min(split, start + args.batch)]
        result = client.call("POST", "/api/v1/events", {"events": chunk})
        if result["rejected"]:
            raise SystemExit(f"backfill rejected events: {result['errors'][:3]}")
        for event in chunk:
            seen.setdefault(event["user_id"], set()).add(event["item_id"])
    backfilled = time.time()

    hits = gain = 0.0
    evaluated = skipped = feedback_joined = explored_items = degraded = 0
    latencies = []
    test = events[split:]
    if args.limit:
        test = test[:args.limit]
    for event in test:
        user, item = event["user_id"], event["item_id"]
        history = seen.setdefault(user, set())
        listed = []
        if item in history:
            skipped += 1
        else:
            t0 = time.perf_counter()
            answer = client.call("POST", "/api/v1/personalization/recommend",
                                 {"user_id": user, "n_recommendations": 10, "scenario": args.scenario,
                                  "timestamp": event["timestamp"]})
            latencies.append((time.perf_counter() - t0) * 1000)
            listed = [r["item_id"] for r in answer["recommendations"]]
            explored_items += sum(1 for r in answer["recommendations"] if r["explored"])
            degraded += 1 if answer["degraded"] else 0
            evaluated += 1
            if item in listed:
                rank = listed.index(item)
                hits += 1
                gain += 1 / math.log2(rank + 2)
        client.call("POST", "/api/v1/events", {"events": [event]})
        if not (item in history) and item in listed:
            result = client.call("POST", "/api/v1/personalization/feedback",
                                 {"request_id": answer["request_id"], "user_id": user, "item_id": item,
                                  "feedback_type": "click", "reward": 1.0, "timestamp": event["timestamp"]})
            feedback_joined += 1 if result["joined"] else 0
        history.add(item)
    finished = time.time()
    latencies.sort()
    n = max(evaluated, 1)
    print(json.dumps({
        "scenario": args.scenario,
        "training_events": split,
        "evaluated_events": evaluated,
        "skipped_events": skipped,
        "hr_at_10": round(hits / n, 4),
        "ndcg_at_10": round(gain / n, 4),
        "feedback_joined": feedback_joined,
        "explored_items": explored_items,
        "degraded_answers": degraded,
        "backfill_seconds": round(backfilled - started, 2),
        "test_seconds": round(finished - backfilled, 2),
        "client_latency_ms_p50": round(latencies[len(latencies) // 2], 3) if latencies else None,
        "client_latency_ms_p99": round(latencies[int(len(latencies) * 0.99)], 3) if latencies else None,
    }, indent=2))


if __name__ == "__main__":
    sys.exit(main())
