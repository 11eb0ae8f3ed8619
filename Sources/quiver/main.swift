import QuiverHTTP
var router = Router()
router.get("/hello") { _ in .text("ok") }
router.post("/echo") { r in .json(r.body) }
router.add(.get, "/slow/{id}", .suspending({ r in try? await Task.sleep(for: .milliseconds(50)); return .text("slow \(r.pathParameters["id"]!)") }))
var c = HTTPServerConfiguration(); c.port = 18080
let s = try HTTPServer(configuration: c, router: router)
s.start()
s.waitUntilStopped()
