// RecommendationStreamTests: WS /api/v1/personalization/stream with a real client (Python's
// `websockets`): subscribe and get a list, an event over the socket acknowledged and followed by a
// pushed fresh list, a REST event for the same user pushing too, errors as messages on a socket
// that stays open, and unsubscribe.
import Foundation
import QuiverTestSupport
import Testing
@testable import QuiverServer

@Suite struct RecommendationStreamTests {
    static let client = #"""
import json, sys, time, urllib.request
from websockets.sync.client import connect
base = sys.argv[1]
out = {}
def until(ws, predicate, limit=10.0):
    deadline = time.time() + limit
    seen = []
    while True:
        m = json.loads(ws.recv(timeout=max(0.01, deadline - time.time())))
        seen.append(m["type"])
        if predicate(m):
            return m, seen
with connect("ws://" + base + "/api/v1/personalization/stream") as ws:
    out["hello"] = json.loads(ws.recv(timeout=5))["type"]
    ws.send(json.dumps({"type": "subscribe", "id": "s", "user_id": "u1", "n": 3}))
    sub, _ = until(ws, lambda m: m["type"] == "subscribed")
    out["subscription"] = sub["subscription"]
    first, _ = until(ws, lambda m: m["type"] == "recommendations")
    out["first_reason"] = first["reason"]
    out["first_items"] = [r["item_id"] for r in first["data"]["recommendations"]]
    t0 = time.time()
    ws.send(json.dumps({"type": "event", "id": "e1", "event": {"user_id": "u1", "item_id": "i5", "type": "click"}}))
    # The push follows the commit, so it may come before or after the ack.
    got = {}
    def ack_or_push(m):
        if m["type"] == "ack":
            got["ack"] = m
        elif m["type"] == "recommendations" and "i7" in [r["item_id"] for r in m["data"]["recommendations"]]:
            got["push"] = m
        return "ack" in got and "push" in got
    until(ws, ack_or_push)
    ack, push = got["ack"], got["push"]
    out["ack"] = [ack["id"], ack["accepted"]]
    out["push_ms"] = (time.time() - t0) * 1000
    out["push_reason"] = push["reason"]
    out["push_items"] = [r["item_id"] for r in push["data"]["recommendations"]]
    errors = []
    ws.send("not json")
    errors.append(until(ws, lambda m: m["type"] == "error")[0]["code"])
    ws.send(b"\x00\x01")
    errors.append(until(ws, lambda m: m["type"] == "error")[0]["code"])
    ws.send(json.dumps({"type": "subscribe", "id": "bad", "user_id": "", "n": 3}))
    bad = until(ws, lambda m: m["type"] == "error")[0]
    errors.append(bad["code"] + ":" + str(bad.get("field")))
    ws.send(json.dumps({"type": "subscribe", "id": "bad2", "user_id": "u1", "scenario": "moon"}))
    errors.append(until(ws, lambda m: m["type"] == "error")[0]["field"])
    ws.send(json.dumps({"type": "teleport"}))
    errors.append(until(ws, lambda m: m["type"] == "error")[0]["code"])
    ws.send(json.dumps({"type": "event", "id": "e2", "event": {"user_id": "u1", "type": "nope-type"}}))
    errors.append(until(ws, lambda m: m["type"] == "error")[0]["field"])
    out["errors"] = errors
    ws.send(json.dumps({"type": "ping", "id": "p"}))
    out["pong"] = until(ws, lambda m: m["type"] == "pong")[0]["id"]
    request = urllib.request.Request("http://" + base + "/api/v1/events", method="POST",
        data=json.dumps({"events": [{"user_id": "u1", "item_id": "i9", "type": "view"}]}).encode(),
        headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request).read()
    rest_push, _ = until(ws, lambda m: m["type"] == "recommendations" and "i9" not in [r["item_id"] for r in m["data"]["recommendations"]])
    out["rest_push_reason"] = rest_push["reason"]
    ws.send(json.dumps({"type": "unsubscribe", "id": "u", "subscription": out["subscription"]}))
    out["unsubscribed"] = until(ws, lambda m: m["type"] == "unsubscribed")[0]["subscription"]
print(json.dumps(out))
"""#

    @Test func streamsFreshListsWhenTheUserChanges() async throws {
        let data = APIServer.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: data) }
        try await APIServer.run(data) { port in
            try await APIServer.seed(port)
            let result = try await TestProcess.run("python3", ["-c", Self.client, "127.0.0.1:\(port)"], timeoutSeconds: 60)
            #expect(result.status == 0, "\(result.stderr)")
            let out = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
            #expect(out["hello"] as? String == "hello")
            #expect(out["first_reason"] as? String == "subscribed")
            #expect((out["first_items"] as? [String])?.first == "i9")
            #expect(out["ack"] as? [AnyHashable] == ["e1", 1])
            #expect(out["push_reason"] as? String == "state_changed")
            #expect((out["push_items"] as? [String])?.contains("i7") == true)
            #expect(out["errors"] as? [String] == ["invalid_json", "unsupported_binary", "invalid_field:user_id", "scenario",
                                                    "unknown_type", "event.type"])
            #expect(out["pong"] as? String == "p")
            #expect(out["rest_push_reason"] as? String == "state_changed")
            #expect(out["unsubscribed"] as? String == out["subscription"] as? String)
        }
    }
}
