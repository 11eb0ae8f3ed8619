// RouterTests: literal and parameter routes, percent-decoding, 404/405/HEAD/OPTIONS, and the
// single JSON error shape.
import QuiverTestSupport
import Testing
@testable import QuiverHTTP

@Suite struct RouterTests {
    static func makeRouter() -> Router {
        var router = Router()
        router.get("/api/v1/users/{id}/profile") { r in .text("profile \(r.pathParameters["id"] ?? "-")") }
        router.put("/api/v1/users/{id}/profile") { _ in .text("put") }
        router.get("/api/v1/users/me/profile") { _ in .text("me") }
        router.get("/health") { _ in .text("ok") }
        return router
    }

    func resolve(_ method: HTTPMethod, _ target: String) -> (HTTPResponse, HTTPRequest) {
        var request = HTTPRequest(method: method, target: target, headers: ["host": "a"])
        switch Self.makeRouter().resolve(&request) {
        case .response(let r): return (r, request)
        case .handler(.immediate(let h)): return (h(request), request)
        case .handler(.suspending): return (.text("suspending"), request)
        case .handler(.webSocket): return (.text("websocket"), request)
        }
    }

    @Test func matchesParametersAndDecodesThem() {
        let (response, request) = resolve(.get, "/api/v1/users/a%20b%2Fc/profile")
        #expect(String(decoding: response.body, as: UTF8.self) == "profile a b/c")
        #expect(request.pathParameters["id"] == "a b/c")
    }

    @Test func prefersLiteralsOverParameters() {
        #expect(String(decoding: resolve(.get, "/api/v1/users/me/profile").0.body, as: UTF8.self) == "me")
    }

    @Test func ignoresOneTrailingSlashAndTheQuery() {
        #expect(resolve(.get, "/health/").0.status == .ok)
        #expect(resolve(.get, "/health?verbose=1").0.status == .ok)
    }

    @Test func answersUnknownPathsWithJSON404() {
        let (response, _) = resolve(.get, "/nope")
        #expect(response.status.code == 404)
        #expect(response.headers["content-type"] == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self).contains(#""code":"not_found""#))
        #expect(resolve(.get, "/api/v1/users//profile").0.status.code == 404)
    }

    @Test func answersWrongMethodWith405AndAllow() {
        let (response, _) = resolve(.delete, "/api/v1/users/7/profile")
        #expect(response.status.code == 405)
        #expect(response.headers["allow"] == "GET, HEAD, OPTIONS, PUT")
        #expect(String(decoding: response.body, as: UTF8.self).contains(#""status":405"#))
    }

    @Test func servesHeadFromGetAndAnswersOptions() {
        #expect(resolve(.head, "/health").0.status == .ok)
        let (options, _) = resolve(.options, "/health")
        #expect(options.status == .noContent)
        #expect(options.headers["allow"] == "GET, HEAD, OPTIONS")
    }

    @Test func refusesMalformedPercentEncodingWith400() {
        #expect(resolve(.get, "/api/v1/users/%zz/profile").0.status.code == 400)
        #expect(resolve(.get, "/api/v1/users/%C3%28/profile").0.status.code == 400)  // not UTF-8
    }

    /// Paths of routes without parameters are looked up whole; the answer must be the walk's.
    @Test(arguments: ["/health", "/health/", "/health?x=1", "/api/v1/users/me/profile", "/api/v1/users/m%65/profile",
                      "/api/v1/users/you/profile", "//health", "/api/v1/users", "/nothing"])
    func resolvesWholePathsLikeTheSegmentWalk(_ target: String) {
        var walking = Self.makeRouter()
        walking.exact = [:]
        for method in [HTTPMethod.get, .head, .put, .options, .post] {
            var a = HTTPRequest(method: method, target: target, headers: ["host": "a"])
            var b = a
            let direct = Self.makeRouter().resolve(&a), walked = walking.resolve(&b)
            func answer(_ resolution: RouteResolution, _ request: HTTPRequest) -> (Int, String) {
                switch resolution {
                case .response(let r): return (r.status.code, String(decoding: r.body, as: UTF8.self))
                case .handler(.immediate(let h)): let r = h(request); return (r.status.code, String(decoding: r.body, as: UTF8.self))
                case .handler: return (0, "")
                }
            }
            #expect(answer(direct, a) == answer(walked, b), "\(method) \(target)")
            #expect(a.pathParameters == b.pathParameters)
        }
    }

    @Test func decodesQueryParameters() throws {
        let query = try QueryParameters(parsing: "a=1&b=x+y&a=2&flag&c=%E2%9C%93")
        #expect(query.values("a") == ["1", "2"])
        #expect(query["b"] == "x y")
        #expect(query["flag"] == "")
        #expect(query["c"] == "✓")
        #expect(throws: PercentDecodingError.self) { try QueryParameters(parsing: "a=%4") }
    }

    @Test func escapesErrorMessagesAsJSON() {
        let response = HTTPResponse.error(.badRequest, code: "bad", message: "quote \" slash \\ newline \n ctl \u{1}", field: "x")
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(text == #"{"error":{"status":400,"code":"bad","message":"quote \" slash \\ newline \n ctl \u0001","field":"x"}}"#)
    }
}
