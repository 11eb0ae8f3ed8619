// EventRoutes: `POST /api/v1/events`. Each event is decoded and validated on its own, so one bad
// event is reported by index and field while the good ones are kept; the good ones are made
// durable (group commit) before the answer; the store's commit observer applies them to the
// feature engine and the models before the writer is acknowledged.
//   200 {"accepted": n, "rejected": m, "errors": [{"index": 3, "field": "events[3].user_id", "message": "..."}]}
//   400 when no event is acceptable (the standard error shape, with the same "errors" list).
import Foundation
import QuiverCore
import QuiverHTTP

/// An event that may fail to decode without failing its batch.
struct LenientEvent: Decodable {
    let result: Result<UserEvent, EventValidationError>

    init(result: Result<UserEvent, EventValidationError>) { self.result = result }

    init(from decoder: any Decoder) throws {
        do {
            result = .success(try UserEvent(from: decoder))
        } catch let error as DecodingError {
            result = .failure(Self.describe(error))
        }
    }

    static func describe(_ error: DecodingError) -> EventValidationError {
        let fault = DecodingFault(error)
        return EventValidationError(field: fault.field.isEmpty ? "events" : fault.field, message: fault.message)
    }
}

struct EventBatch: Decodable {
    let events: [LenientEvent]
}

struct EventError: Encodable {
    let index: Int
    let field: String
    let message: String
}

struct EventBatchResult: Encodable {
    let accepted: Int
    let rejected: Int
    let errors: [EventError]
}

enum EventRoutes {
    static func install(into router: inout Router, service: FeatureService) {
        router.add(.post, "/api/v1/events", .suspending({ request in
            let batch: EventBatch
            if request.headers["content-type"].map({ $0.lowercased().hasPrefix("application/json") }) ?? true,
               let events = EventBatchParser.parse(request.body) {
                // The common clean batch without Foundation's decoder.
                batch = EventBatch(events: events.map { LenientEvent(result: .success($0)) })
            } else {
                switch JSONBody.decode(EventBatch.self, from: request) {
                case .failure(let error): return error.response
                case .success(let decoded): batch = decoded
                }
            }
            let limit = service.validator.limits.maxBatchSize
            guard !batch.events.isEmpty, batch.events.count <= limit else {
                return .error(.badRequest, code: "invalid_field", message: "events must hold between 1 and \(limit) events",
                              field: "events")
            }
            let now = FeatureService.now()
            var accepted: [UserEvent] = []
            var errors: [EventError] = []
            for (index, lenient) in batch.events.enumerated() {
                switch lenient.result {
                case .failure(let error):
                    errors.append(EventError(index: index, field: error.field, message: error.message))
                case .success(let event):
                    let stamped = event.stamped(at: now)
                    do throws(EventValidationError) {
                        try service.validator.validate(stamped, path: "events[\(index)]")
                        accepted.append(stamped)
                    } catch {
                        errors.append(EventError(index: index, field: error.field, message: error.message))
                    }
                }
            }
            if accepted.isEmpty {
                return rejection(errors)
            }
            do {
                try await service.log.append(accepted, receivedAt: now)
            } catch {
                return .error(.serviceUnavailable, code: "event_log_unavailable",
                              message: "events could not be made durable: \(error)")
            }
            return JSONBody.response(EventBatchResult(accepted: accepted.count, rejected: errors.count, errors: errors))
        }))
    }

    /// The standard error shape, with every per-event error listed.
    static func rejection(_ errors: [EventError]) -> HTTPResponse {
        struct Body: Encodable {
            struct Detail: Encodable {
                let status: Int
                let code: String
                let message: String
                let field: String?
                let errors: [EventError]
            }
            let error: Detail
        }
        let first = errors.first
        return JSONBody.response(
            Body(error: .init(status: 400, code: "invalid_events",
                              message: "no event was accepted" + (first.map { ": \($0.field) \($0.message)" } ?? ""),
                              field: first?.field, errors: errors)),
            status: .badRequest)
    }
}
