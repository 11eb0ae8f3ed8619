"""quiver_client.py: what the Python scripts share: a keep-alive JSON client for Quiver's API and
the MovieLens-100k loader (the RecBole files that ../shared/data/fetch.sh extracts)."""
import http.client
import json
import urllib.parse


class Client:
    """One keep-alive connection; a non-200 answer stops the script with the server's error."""

    def __init__(self, url, timeout=120):
        parsed = urllib.parse.urlparse(url)
        self.host, self.port, self.timeout = parsed.hostname, parsed.port or 80, timeout
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def call(self, method, path, body=None, content_type="application/json"):
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        for attempt in range(3):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, ConnectionError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                if attempt == 2:
                    raise
        if response.status != 200:
            raise SystemExit(f"{method} {path} -> {response.status}: {payload[:500]!r}")
        return json.loads(payload)


def load_movielens(data_dir):
    """(items, events): catalog items with their genres, and the ratings as events sorted by time
    (stable, so ties keep the file's order, as `quiver replay` does)."""
    items = []
    with open(f"{data_dir}/ml-100k.item", encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            items.append({"item_id": parts[0], "title": parts[1], "categories": parts[3].split() if len(parts) > 3 else []})
    events = []
    with open(f"{data_dir}/ml-100k.inter", encoding="utf-8", errors="replace") as f:
        next(f)
        for line in f:
            user, item, rating, ts = line.split("\t")
            events.append({"user_id": user, "item_id": item, "type": "rating", "value": float(rating), "timestamp": float(ts)})
    events.sort(key=lambda e: e["timestamp"])
    return items, events
