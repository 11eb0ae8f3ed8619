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
        // On the in-process cache alone the answer is CPU work: it runs on the event loop. With a
        // shared online store an in-process miss waits for one Redis round trip: a task.
        if service.sharedCache == nil {
            router.post("/api/v1/personalization/recommend") { request in
                switch decode(request, limit: service.configuration.maxRecommendBatch) {
                case .answered(let response): return response
                case .requests(let requests, let batch):
                    return render(requests.enumerated().lazy.map { i, single in
                        service.recommend(single, path: batch ? "requests[\(i)]." : "")
                    }, batch: batch, count: requests.count)
                }
            }
        } else {
            router.add(.post, "/api/v1/personalization/recommend", .suspending({ request in
                switch decode(request, limit: service.configuration.maxRecommendBatch) {
                case .answered(let response): return response
                case .requests(let requests, let batch):
                    var results: [Result<[UInt8], RequestFault>] = []
                    for (i, single) in requests.enumerated() {
                        let result = await service.recommendShared(single, path: batch ? "requests[\(i)]." : "")
                        results.append(result)
                        if case .failure = result { break }
                    }
                    return render(results, batch: batch, count: requests.count)
                }
            }))
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

extension RecommendationRoutes {
    enum DecodedRecommend {
        case answered(HTTPResponse)
        case requests([RecommendationRequest], batch: Bool)
    }

    /// The body as one request or a batch within `limit`, or the 400 that says what is wrong.
    static func decode(_ request: HTTPRequest, limit: Int) -> DecodedRecommend {
        // The common flat body without Foundation's decoder; anything else goes to JSONDecoder.
        if request.headers["content-type"].map(isJSONContentType) ?? true,
           let single = RecommendRequestParser.parse(request.body) {
            return .requests([single], batch: false)
        }
        switch JSONBody.decode(RecommendBody.self, from: request) {
        case .failure(let error):
            return .answered(error.response)
        case .success(.single(let single)):
            return .requests([single], batch: false)
        case .success(.batch(let requests)):
            guard !requests.isEmpty, requests.count <= limit else {
                return .answered(.error(.badRequest, code: "invalid_field", message: "requests must hold between 1 and \(limit) requests",
                                        field: "requests"))
            }
            return .requests(requests, batch: true)
        }
    }

    /// Whether a Content-Type starts with `application/json`, ASCII case-insensitively (bytes only).
    static func isJSONContentType(_ value: String) -> Bool {
        let prefix: StaticString = "application/json"
        let n = prefix.utf8CodeUnitCount
        var value = value
        return value.withUTF8 { bytes in
            guard bytes.count >= n else { return false }
            for k in 0..<n where (bytes[k] >= 0x41 && bytes[k] <= 0x5A ? bytes[k] | 0x20 : bytes[k]) != prefix.utf8Start[k] {
                return false
            }
            return true
        }
    }

    /// One response, or `{"count": n, "responses": [...]}`; the first failure answers for the batch.
    static func render(_ results: some Sequence<Result<[UInt8], RequestFault>>, batch: Bool, count: Int) -> HTTPResponse {
        guard batch else {
            for result in results {
                switch result {
                case .success(let bytes): return .json(bytes)
                case .failure(let fault): return fault.response
                }
            }
            return .error(.badRequest, code: "invalid_field", message: "no request", field: "requests")
        }
        var w = JSONWriter(capacity: 2048 * count)
        w.raw("{"); w.key("count"); w.number(count); w.comma(); w.key("responses"); w.raw("[")
        for (i, result) in results.enumerated() {
            switch result {
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

extension RequestFault {
    /// The standard 400 naming the field.
    var response: HTTPResponse {
        .error(.badRequest, code: code, message: "\(field) \(message)", field: field)
    }
}
