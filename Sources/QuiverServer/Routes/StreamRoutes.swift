// StreamRoutes: WS /api/v1/personalization/stream, the real-time recommendation stream
// (message schema v1 in docs/api.md). A client subscribes for a user and scenario, sends events
// and feedback as messages, and receives a fresh list pushed whenever that user's state changes
// (from this socket, REST, or another socket). Errors are messages; the socket stays open.
// Invariant: at most one push per subscription is queued at a time (changes coalesce).
import Dispatch
import Foundation
import QuiverCore
import QuiverHTTP
import Synchronization

enum StreamRoutes {
    static func install(into router: inout Router, service: RecommendationService) {
        let hub = StreamHub(service: service)
        service.onUsersChanged { users in hub.usersChanged(users) }
        var options = WebSocketOptions()
        options.maxMessageBytes = 1 << 20
        options.maxFrameBytes = 1 << 20
        router.webSocket("/api/v1/personalization/stream", options: options, handler: hub)
    }
}

/// Every subscription of every stream socket.
final class StreamHub: WebSocketHandler, Sendable {
    static let protocolVersion = 1
    static let maxSubscriptionsPerSocket = 16

    final class Subscription: Sendable {
        let id: String
        let socket: WebSocket
        let request: RecommendationRequest
        /// A push is queued and has not started yet.
        let pending = Atomic<Bool>(false)
        init(id: String, socket: WebSocket, request: RecommendationRequest) {
            self.id = id
            self.socket = socket
            self.request = request
        }
    }

    private let service: RecommendationService
    private let byUser = Mutex<[String: [Subscription]]>([:])
    private let bySocket = Mutex<[UInt64: [Subscription]]>([:])
    private let counter = Atomic<UInt64>(0)
    private let queue = DispatchQueue(label: "quiver.stream", attributes: .concurrent)

    init(service: RecommendationService) {
        self.service = service
    }

    // MARK: WebSocketHandler

    func opened(_ socket: WebSocket) {
        send(["type": "hello", "v": Self.protocolVersion, "server": "quiver"], to: socket)
    }

    func received(_ message: WebSocketMessage, on socket: WebSocket) {
        guard case .text(let text) = message else {
            sendError(socket, id: nil, code: "unsupported_binary", message: "messages are JSON text (schema v1)", field: nil)
            return
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            sendError(socket, id: nil, code: "invalid_json", message: "a message is one JSON object", field: nil)
            return
        }
        let id = object["id"] as? String
        guard let type = object["type"] as? String else {
            sendError(socket, id: id, code: "missing_field", message: "type is required", field: "type")
            return
        }
        if let v = object["v"] as? Int, v != Self.protocolVersion {
            sendError(socket, id: id, code: "unsupported_version", message: "this server speaks schema v\(Self.protocolVersion)", field: "v")
            return
        }
        switch type {
        case "subscribe": subscribe(object, id: id, socket: socket)
        case "unsubscribe": unsubscribe(object, id: id, socket: socket)
        case "event", "events": events(object, id: id, socket: socket)
        case "feedback": feedback(object, id: id, socket: socket)
        case "ping": send(["type": "pong", "v": Self.protocolVersion, "id": id], to: socket)
        default:
            sendError(socket, id: id, code: "unknown_type",
                      message: "type must be subscribe, unsubscribe, event, events, feedback or ping", field: "type")
        }
    }

    func closed(_ socket: WebSocket, code: WebSocketCloseCode, reason: String) {
        let subscriptions = bySocket.withLock { $0.removeValue(forKey: socket.id) } ?? []
        byUser.withLock { byUser in
            for s in subscriptions {
                byUser[s.request.userID]?.removeAll { $0 === s }
                if byUser[s.request.userID]?.isEmpty == true { byUser[s.request.userID] = nil }
            }
        }
    }

    // MARK: Messages

    private func decode<T: Decodable>(_ type: T.Type, from object: Any, path: String) -> Result<T, RequestFault> {
        do {
            let data = try JSONSerialization.data(withJSONObject: object)
            return .success(try JSONDecoder().decode(T.self, from: data))
        } catch let error as DecodingError {
            let fault = DecodingFault(error)
            let field = fault.field.isEmpty ? path : (path.isEmpty ? fault.field : "\(path).\(fault.field)")
            return .failure(RequestFault(field: field, message: fault.message, code: fault.isMissing ? "missing_field" : "invalid_field"))
        } catch {
            return .failure(RequestFault(field: path, message: "must be a JSON object"))
        }
    }

    private func subscribe(_ object: [String: Any], id: String?, socket: WebSocket) {
        var body = object
        body["type"] = nil; body["id"] = nil; body["v"] = nil
        if let n = body.removeValue(forKey: "n") { body["n_recommendations"] = n }
        let request: RecommendationRequest
        switch decode(RecommendationRequest.self, from: body, path: "") {
        case .failure(let fault): sendError(socket, id: id, code: fault.code, message: "\(fault.field) \(fault.message)", field: fault.field); return
        case .success(let decoded): request = decoded
        }
        let count = bySocket.withLock { $0[socket.id]?.count ?? 0 }
        guard count < Self.maxSubscriptionsPerSocket else {
            sendError(socket, id: id, code: "too_many_subscriptions",
                      message: "at most \(Self.maxSubscriptionsPerSocket) subscriptions per connection", field: nil)
            return
        }
        // Validate by answering once: a bad scenario or count is an error message, not a subscription.
        switch service.recommend(request) {
        case .failure(let fault):
            sendError(socket, id: id, code: fault.code, message: "\(fault.field) \(fault.message)", field: fault.field)
        case .success(let first):
            let subscription = Subscription(id: "s\(counter.wrappingAdd(1, ordering: .relaxed).newValue)", socket: socket, request: request)
            bySocket.withLock { $0[socket.id, default: []].append(subscription) }
            byUser.withLock { $0[request.userID, default: []].append(subscription) }
            send(["type": "subscribed", "v": Self.protocolVersion, "id": id, "subscription": subscription.id,
                  "user_id": request.userID, "scenario": request.scenario ?? "homepage"], to: socket)
            push(first, subscription: subscription, reason: "subscribed")
        }
    }

    private func unsubscribe(_ object: [String: Any], id: String?, socket: WebSocket) {
        guard let subscriptionID = object["subscription"] as? String else {
            sendError(socket, id: id, code: "missing_field", message: "subscription is required", field: "subscription")
            return
        }
        let removed = bySocket.withLock { map -> Subscription? in
            guard let index = map[socket.id]?.firstIndex(where: { $0.id == subscriptionID }) else { return nil }
            return map[socket.id]?.remove(at: index)
        }
        guard let removed else {
            sendError(socket, id: id, code: "unknown_subscription", message: "no subscription '\(subscriptionID)' on this connection",
                      field: "subscription")
            return
        }
        byUser.withLock { $0[removed.request.userID]?.removeAll { $0 === removed } }
        send(["type": "unsubscribed", "v": Self.protocolVersion, "id": id, "subscription": subscriptionID], to: socket)
    }

    private func events(_ object: [String: Any], id: String?, socket: WebSocket) {
        let list: [Any]
        let path: String
        if let single = object["event"] { (list, path) = ([single], "event") } else if let many = object["events"] as? [Any] {
            (list, path) = (many, "events")
        } else {
            sendError(socket, id: id, code: "missing_field", message: "event (one) or events (a list) is required", field: "event")
            return
        }
        let features = service.features
        guard !list.isEmpty, list.count <= features.validator.limits.maxBatchSize else {
            sendError(socket, id: id, code: "invalid_field", message: "events must hold 1 to \(features.validator.limits.maxBatchSize) events",
                      field: path)
            return
        }
        let now = Date().timeIntervalSince1970
        var accepted: [UserEvent] = []
        for (i, element) in list.enumerated() {
            let field = path == "event" ? "event" : "events[\(i)]"
            switch decode(UserEvent.self, from: element, path: field) {
            case .failure(let fault):
                sendError(socket, id: id, code: fault.code, message: "\(fault.field) \(fault.message); nothing was accepted", field: fault.field)
                return
            case .success(let event):
                let stamped = event.stamped(at: now)
                do throws(EventValidationError) {
                    try features.validator.validate(stamped, path: field)
                } catch {
                    sendError(socket, id: id, code: "invalid_field", message: "\(error.description); nothing was accepted", field: error.field)
                    return
                }
                accepted.append(stamped)
            }
        }
        let events = accepted
        Task {
            do {
                try await features.log.append(events, receivedAt: now)
            } catch {
                sendError(socket, id: id, code: "event_log_unavailable", message: "events could not be made durable: \(error)", field: nil)
                return
            }
            send(["type": "ack", "v": Self.protocolVersion, "id": id, "accepted": events.count], to: socket)
        }
    }

    private func feedback(_ object: [String: Any], id: String?, socket: WebSocket) {
        guard let body = object["feedback"] else {
            sendError(socket, id: id, code: "missing_field", message: "feedback is required", field: "feedback")
            return
        }
        let request: FeedbackRequest
        switch decode(FeedbackRequest.self, from: body, path: "feedback") {
        case .failure(let fault): sendError(socket, id: id, code: fault.code, message: "\(fault.field) \(fault.message)", field: fault.field); return
        case .success(let decoded): request = decoded
        }
        let service = service
        Task {
            switch await service.feedback(request, path: "feedback.") {
            case .accepted(let response):
                send(["type": "ack", "v": Self.protocolVersion, "id": id, "status": response.status, "joined": response.joined,
                      "reason": response.reason, "reward": response.reward], to: socket)
            case .invalid(let fault):
                sendError(socket, id: id, code: fault.code, message: "\(fault.field) \(fault.message)", field: fault.field)
            case .unavailable(let message):
                sendError(socket, id: id, code: "event_log_unavailable", message: message, field: nil)
            }
        }
    }

    // MARK: Pushes

    /// The users' state changed: queue one fresh list per subscription (coalesced).
    func usersChanged(_ users: Set<String>) {
        let affected = byUser.withLock { map in users.flatMap { map[$0] ?? [] } }
        for subscription in affected where subscription.socket.isOpen {
            guard subscription.pending.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { continue }
            queue.async { [self] in
                subscription.pending.store(false, ordering: .releasing)
                switch service.recommend(subscription.request) {
                case .success(let bytes): push(bytes, subscription: subscription, reason: "state_changed")
                case .failure(let fault):
                    sendError(subscription.socket, id: nil, code: fault.code, message: "\(fault.field) \(fault.message)", field: fault.field)
                }
            }
        }
    }

    private func push(_ response: [UInt8], subscription: Subscription, reason: String) {
        var w = JSONWriter(capacity: response.count + 128)
        w.raw("{"); w.key("type"); w.string("recommendations")
        w.comma(); w.key("v"); w.number(Self.protocolVersion)
        w.comma(); w.key("subscription"); w.string(subscription.id)
        w.comma(); w.key("reason"); w.string(reason)
        w.comma(); w.key("data"); w.raw(response)
        w.raw("}")
        subscription.socket.send(text: String(decoding: w.bytes, as: UTF8.self))
    }

    /// Sends a control message; nil values are sent as JSON null.
    private func send(_ object: [String: Any?], to socket: WebSocket) {
        let values = object.mapValues { $0 ?? NSNull() }
        guard let data = try? JSONSerialization.data(withJSONObject: values, options: [.sortedKeys]) else { return }
        socket.send(text: String(decoding: data, as: UTF8.self))
    }

    private func sendError(_ socket: WebSocket, id: String?, code: String, message: String, field: String?) {
        send(["type": "error", "v": Self.protocolVersion, "id": id, "code": code, "message": message,
              "field": field], to: socket)
    }
}
