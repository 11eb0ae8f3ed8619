// FeatureRoutes: real-time features and the catalog:
//   GET  /api/v1/features/realtime/{user_id}[?device=&locale=&page=&vector=true]
//   POST /api/v1/features/compute   {"user_ids": [...], "context": {...}, "include_vector": false}
//   PUT  /api/v1/items/{item_id}    a catalog item (durable before the answer)
//   POST /api/v1/items/import       JSON lines of catalog items, all or nothing
import Foundation
import QuiverCore
import QuiverHTTP

struct FeaturesBody: Encodable {
    let user_id: String
    let version: String
    let features: RealTimeFeatures
    let vector: [Double]?
    let vector_names: [String]?
}

struct ComputeRequest: Decodable {
    let user_ids: [String]
    let context: EventContext?
    let include_vector: Bool?
}

struct ComputeResponse: Encodable {
    let version: String
    let users: [FeaturesBody]
}

struct ImportResult: Encodable {
    let imported: Int
}

enum FeatureRoutes {
    static func install(into router: inout Router, service: FeatureService) {
        router.get("/api/v1/features/realtime/{user_id}") { request in
            let userID = request.pathParameters["user_id"] ?? ""
            if let error = validateUserID(userID, field: "user_id") { return error }
            let query: QueryParameters
            do { query = try request.queryParameters() } catch {
                return .error(.badRequest, code: "bad_query", message: "malformed percent-encoding in the query")
            }
            let context = EventContext(device: query["device"], locale: query["locale"], page: query["page"])
            let withVector = query["vector"] == "true" || query["vector"] == "1"
            return JSONBody.response(body(for: userID, context: context, vector: withVector, service: service))
        }

        router.post("/api/v1/features/compute") { request in
            let compute: ComputeRequest
            switch JSONBody.decode(ComputeRequest.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): compute = decoded
            }
            guard !compute.user_ids.isEmpty, compute.user_ids.count <= service.maxComputeUsers else {
                return .error(.badRequest, code: "invalid_field",
                              message: "user_ids must hold between 1 and \(service.maxComputeUsers) ids", field: "user_ids")
            }
            for (index, userID) in compute.user_ids.enumerated() {
                if let error = validateUserID(userID, field: "user_ids[\(index)]") { return error }
            }
            let users = compute.user_ids.map {
                body(for: $0, context: compute.context ?? .empty, vector: compute.include_vector ?? false, service: service)
            }
            return JSONBody.response(ComputeResponse(version: service.engine.activeVersion, users: users))
        }

        router.add(.put, "/api/v1/items/{item_id}", .suspending({ request in
            let item: CatalogItem
            switch JSONBody.decode(CatalogItem.self, from: request) {
            case .failure(let error): return error.response
            case .success(let decoded): item = decoded
            }
            guard item.itemID == request.pathParameters["item_id"] else {
                return .error(.badRequest, code: "invalid_field", message: "item_id must match the path", field: "item_id")
            }
            do throws(EventValidationError) { try service.validator.validate(item, path: "item") } catch {
                return .error(.badRequest, code: "invalid_field", message: error.description, field: error.field)
            }
            do { try await service.log.store([item]) } catch {
                return .error(.serviceUnavailable, code: "event_log_unavailable", message: "the item could not be stored: \(error)")
            }
            return JSONBody.response(item)
        }))

        router.add(.post, "/api/v1/items/import", .suspending({ request in
            var items: [CatalogItem] = []
            let decoder = JSONDecoder()
            let lines = request.body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            for (number, line) in lines.enumerated() where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                do {
                    let item = try decoder.decode(CatalogItem.self, from: Data(line))
                    try service.validator.validate(item, path: "line \(number + 1)")
                    items.append(item)
                } catch let error as EventValidationError {
                    return .error(.badRequest, code: "invalid_field", message: "\(error.description); nothing was imported", field: error.field)
                } catch let error as DecodingError {
                    let fault = DecodingFault(error)
                    if fault.field.isEmpty {
                        return .error(.badRequest, code: "invalid_json", message: "line \(number + 1) is not JSON; nothing was imported",
                                      field: "line \(number + 1)")
                    }
                    let field = "line \(number + 1).\(fault.field)"
                    return .error(.badRequest, code: "invalid_field",
                                  message: "\(field) \(fault.message); nothing was imported", field: field)
                } catch {
                    return .error(.badRequest, code: "invalid_json", message: "line \(number + 1) is not JSON; nothing was imported")
                }
            }
            guard !items.isEmpty else {
                return .error(.badRequest, code: "missing_body", message: "expected one catalog item (JSON) per line")
            }
            do { try await service.log.store(items) } catch {
                return .error(.serviceUnavailable, code: "event_log_unavailable", message: "the items could not be stored: \(error)")
            }
            return JSONBody.response(ImportResult(imported: items.count))
        }))
    }

    static func validateUserID(_ userID: String, field: String) -> HTTPResponse? {
        if userID.isEmpty || userID.utf8.count > 256 {
            return .error(.badRequest, code: "invalid_field", message: "\(field) must be 1 to 256 bytes", field: field)
        }
        return nil
    }

    static func body(for userID: String, context: EventContext, vector: Bool, service: FeatureService) -> FeaturesBody {
        let now = FeatureService.now()
        let features = service.engine.features(for: userID, context: context, now: now)
        var values: [Double]?
        var names: [String]?
        if vector {
            let computed = service.engine.featureVector(for: userID, context: context, now: now)
            values = computed.values.map { $0.isFinite ? $0 : 0 }
            names = service.engine.vectorLayout.names
        }
        return FeaturesBody(user_id: userID, version: features.version, features: features, vector: values, vector_names: names)
    }
}
