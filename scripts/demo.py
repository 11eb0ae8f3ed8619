#!/usr/bin/env python3
"""demo.py: MovieLens-100k into a running Quiver through the public API, then a few personalised
answers with their explanations.

  scripts/demo.py --url http://127.0.0.1:8080 --data /tmp/quiver-data/ml-100k [--users 3]

Imports the 1,682 movies with their genres, sends the 100,000 ratings as events with their own
timestamps, then for a few users prints what they watched last, their top-5 homepage list with
each item's source, score and top reason, and the answer's explanation; one user then clicks the
first item (joined feedback) and gets a fresh list.
"""
import argparse, json, os, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from quiver_client import Client, load_movielens  # noqa: E402

def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--data", required=True)
    p.add_argument("--users", type=int, default=3)
    a = p.parse_args()
    client = Client(a.url)
    call = client.call
    items, events = load_movielens(a.data)
    titles = {item["item_id"]: item["title"] for item in items}
    lines = [json.dumps(item) for item in items]
    for start in range(0, len(lines), 1000):
        call("POST", "/api/v1/items/import", "\n".join(lines[start:start + 1000]).encode(), "application/x-ndjson")
    for start in range(0, len(events), 2000):
        call("POST", "/api/v1/events", {"events": events[start:start + 2000]})
    last = events[-1]["timestamp"]
    print(f"loaded {len(titles)} movies and {len(events)} ratings through the API\n")
    users = ["1", "42", "405", "655", "13"][:a.users]
    for user in users:
        history = [e["item_id"] for e in events if e["user_id"] == user][-3:]
        answer = call("POST", "/api/v1/personalization/recommend",
                      {"user_id": user, "n_recommendations": 5, "timestamp": last, "use_cache": False})
        print(f"user {user} last watched: " + "; ".join(titles.get(i, i) for i in history))
        for r in answer["recommendations"]:
            reason = r["explanation"]["reasons"][0]["name"] if r["explanation"]["reasons"] else r["explanation"]["model"]
            if reason.startswith("co-visited with "):
                other = reason[len("co-visited with "):]
                reason = "co-visited with " + titles.get(other, other)[:30]
            print(f"  {r['rank']}. {titles.get(r['item_id'], r['item_id'])[:40]:40s} score {r['score']:.3f}  "
                  f"[{r['source']}{', explored' if r['explored'] else ''}, p={r['propensity']:.2f}]  {reason}")
        print(f"  -> {answer['explanation']} ({answer['latency_ms']} ms, model {answer['model_version']})\n")
    first = answer["recommendations"][0]["item_id"]
    feedback = call("POST", "/api/v1/personalization/feedback",
                    {"request_id": answer["request_id"], "user_id": users[-1], "item_id": first, "feedback_type": "click",
                     "timestamp": last})
    again = call("POST", "/api/v1/personalization/recommend",
                 {"user_id": users[-1], "n_recommendations": 5, "timestamp": last})
    print(f"user {users[-1]} clicks '{titles.get(first, first)}' (feedback joined: {feedback['joined']}); fresh list: "
          + "; ".join(titles.get(r["item_id"], r["item_id"])[:30] for r in again["recommendations"]))
    status = call("GET", "/api/v1/models/status")
    print("\nmodels: " + ", ".join(f"{m['name']} ({m['update_count']} updates)" for m in status["models"]))

if __name__ == "__main__":
    main()
