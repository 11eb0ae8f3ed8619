// RecommendationRoutes: the personalization endpoints.
//   POST /api/v1/personalization/recommend   one request, or {"requests": [...]} for a batch
//   POST /api/v1/personalization/feedback    a reward for a recommended item (durable before 200)
//   GET  /api/v1/personalization/user/{id}/profile
//   PUT  /api/v1/personalization/user/{id}/profile   explicit preferences, merged (or replaced)
// Recommendation runs on the event loop (pure CPU, no blocking call); writes are suspending.
import Foundation
import QuiverCore
import QuiverHTTP
import QuiverStore

/// A recommend body: one request or a batch.
enum RecommendBody: Decodable {
    case single(RecommendationRequest)
    case batch([RecommendationRequest])

    enum Keys: String, CodingKey { case requests }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if c.contains(.requests) {
            self = .batch(try c.decode([RecommendationRequest].self, forKey: .requests))
        } else {
            self = .single(try RecommendationRequest(from: decoder))
        }
    }
}

enum RecommendationRoutes {
    static func install(into router: inout Router, service: RecommendationService) {
        router.post("/api/v1/personalization/recommend") { request in
            switch JSONBody.decode(RecommendBody.self, from: request) {
            case .failure(let error):
                return error.response
            case .success(.single(let single)):
                switch service.recommend(single) {
                case .success(let bytes): return .json(bytes)
                case .failure(let fault): return fault.response
                }
            case .success(.batch(let requests)):
                let limit = service.configuration.maxRecommendBatch
                guard !requests.isEmpty, requests.count <= limit else {
                    return .error(.badRequest, code: "invalid_field", message: "requests must hold between 1 and \(limit) requests",
                                  field: "requests")
                }
                var w = JSONWriter(capacity: 2048 * requests.count)
                w.raw("{"); w.key("count"); w.number(requests.count); w.comma(); w.key("responses"); w.raw("[")
                for (i, single) in requests.enumerated() {
                    switch service.recommend(single, path: "requests[\(i)].") {
                    case .success(let bytes):
                        if i > 0 { w.comma() }
                        w.raw(bytes)
                    case .failure(let fault):
                        return fault.response
                    }
                }
                w.raw("]}")
                return .json(w.bytes)
            }
        }

        router.add(.post, "/api/v1/personalization/feedback", .suspending({ request in
            let feedback: FeedbackRequest
            switch JSONBody.decode(FeedbackRequest.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): feedback = decoded
            }
            switch await service.feedback(feedback) {
            case .accepted(let body): return JSONBody.response(body)
            case .invalid(let fault): return fault.response
            case .unavailable(let message): return .error(.serviceUnavailable, code: "event_log_unavailable", message: message)
            }
        }))

        router.get("/api/v1/personalization/user/{user_id}/profile") { request in
            let userID = request.pathParameters["user_id"] ?? ""
            if let fault = RecommendationService.checkIdentifier(userID, field: "user_id") { return fault.response }
            return JSONBody.response(service.profile(of: userID))
        }

        router.add(.put, "/api/v1/personalization/user/{user_id}/profile", .suspending({ request in
            let userID = request.pathParameters["user_id"] ?? ""
            if let fault = RecommendationService.checkIdentifier(userID, field: "user_id") { return fault.response }
            let update: ProfileUpdate
            switch JSONBody.decode(ProfileUpdate.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): update = decoded
            }
            switch await service.updateProfile(of: userID, with: update) {
            case .success(let profile): return JSONBody.response(profile)
            case .failure(let fault):
                if fault.code == "store_unavailable" {
                    return .error(.serviceUnavailable, code: fault.code, message: fault.message)
                }
                return fault.response
            }
        }))
    }
}

extension RequestFault {
    /// The standard 400 naming the field.
    var response: HTTPResponse {
        .error(.badRequest, code: code, message: "\(field) \(message)", field: field)
    }
}
