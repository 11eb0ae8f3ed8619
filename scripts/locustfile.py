"""locustfile.py: the story's load test plan (locust) against a running Quiver.

The story's test plan: recommendation latency (P99 < 100 ms), cache hit rate (> 80%), concurrent
load (10,000+ QPS), online learning under load (feedback), real-time features (< 10 ms). One
simulated user is a shopper with a Zipf-distributed id (a realistic repeat pattern) who mostly asks
for the homepage, sometimes an item page, views and clicks, and sends feedback joined to the list
they were shown.

  pip install locust
  python3 scripts/bench-data.py --url http://127.0.0.1:8080          # a catalog and histories
  locust -f scripts/locustfile.py --host http://127.0.0.1:8080 --headless -u 200 -r 50 -t 60s
  curl -s http://127.0.0.1:8080/api/v1/metrics                      # cache hit rate per scenario

Locust's own Python client tops out far below the server on this 2-core machine; the throughput
numbers of record come from scripts/bench-recommend.sh (wrk). Locust is for the mixed scenario and
its latency distribution.
"""
import json
import random

from locust import FastHttpUser, between, task

USERS = 100_000
ITEMS = 10_000


def zipf_user() -> str:
    return f"user{int(USERS ** random.random()) - 1}"


class Shopper(FastHttpUser):
    wait_time = between(0.0, 0.05)

    def on_start(self):
        self.user = zipf_user()
        self.last = None

    @task(60)
    def homepage(self):
        with self.client.post("/api/v1/personalization/recommend", name="recommend homepage",
                              json={"user_id": self.user, "n_recommendations": 10, "scenario": "homepage"},
                              catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            body = response.json()
            self.last = body if body["recommendations"] else None

    @task(10)
    def item_page(self):
        item = f"item{random.randrange(ITEMS)}"
        self.client.post("/api/v1/personalization/recommend", name="recommend item_detail",
                         json={"user_id": self.user, "scenario": "item_detail", "context": {"item_id": item}})

    @task(15)
    def view(self):
        self.client.post("/api/v1/events", name="events",
                         json={"events": [{"user_id": self.user, "item_id": f"item{random.randrange(ITEMS)}", "type": "view"}]})

    @task(10)
    def click_feedback(self):
        if not self.last:
            return
        item = random.choice(self.last["recommendations"])["item_id"]
        self.client.post("/api/v1/personalization/feedback", name="feedback",
                         json={"request_id": self.last["request_id"], "user_id": self.user, "item_id": item,
                               "feedback_type": "click"})
        self.last = None

    @task(5)
    def features(self):
        self.client.get(f"/api/v1/features/realtime/{self.user}", name="features")
