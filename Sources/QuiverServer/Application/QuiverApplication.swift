// QuiverApplication: wires a configuration into a running server: the I/O pool, the dependency
// probes, the routes and the HTTP server; and runs it until SIGTERM or SIGINT, then shuts down
// gracefully (stop accepting, finish in-flight requests within the grace period) and returns.
import Dispatch
import Foundation
import Logging
import QuiverHTTP
import QuiverStore

/// A configured Quiver server.
public final class QuiverApplication: Sendable {
    public let configuration: QuiverConfiguration
    public let server: HTTPServer
    let pool: BlockingIOPool
    let features: FeatureService
    let recommendations: RecommendationService
    let logger: Logger

    /// Builds the server and binds its port; throws when the address cannot be bound.
    public init(configuration: QuiverConfiguration, logger: Logger? = nil) throws {
        self.configuration = configuration
        var logger = logger ?? Logger(label: "quiver")
        logger.logLevel = configuration.logLevel
        self.logger = logger
        pool = BlockingIOPool(threads: configuration.ioThreads)
        let stores = try StoreBackends.open(configuration)
        let probes = try DependencyProbes(configuration: configuration, pool: pool, online: stores.online)
        features = try FeatureService(configuration: configuration, store: stores.events, online: stores.online, logger: logger)
        recommendations = try RecommendationService(configuration: configuration, features: features, snapshots: stores.snapshots,
                                                    pool: pool, onlineStore: stores.online, configVersions: stores.configVersions,
                                                    logger: logger)
        let router = Self.router(configuration: configuration, probes: probes, features: features, recommendations: recommendations)
        server = try HTTPServer(configuration: configuration.http, router: router, logger: logger)
    }

    static func router(configuration: QuiverConfiguration, probes: DependencyProbes, features: FeatureService,
                       recommendations: RecommendationService) -> Router {
        var router = Router()
        SystemRoutes.install(into: &router, probes: probes, startedAt: .now)
        EventRoutes.install(into: &router, service: features)
        FeatureRoutes.install(into: &router, service: features)
        FeatureDefinitionRoutes.install(into: &router, service: features, recommendations: recommendations)
        RecommendationRoutes.install(into: &router, service: recommendations)
        ModelRoutes.install(into: &router, service: recommendations)
        ScenarioRoutes.install(into: &router, service: recommendations)
        StreamRoutes.install(into: &router, service: recommendations)
        if configuration.benchmarkEndpoints {
            BenchmarkRoutes.install(into: &router)
        }
        return router
    }

    /// The port the server listens on.
    public var port: Int { server.port }

    /// Starts serving; returns at once.
    public func start() { server.start() }

    /// Begins a graceful shutdown; returns at once.
    public func shutdown() { server.shutdown() }

    /// Waits until the server has stopped, then releases the I/O pool.
    public func waitUntilStopped() {
        server.waitUntilStopped()
        recommendations.shutdown()
        features.log.shutdown()
        pool.shutdown()
    }

    /// Serves until SIGTERM or SIGINT, then shuts down gracefully and returns.
    public func runUntilSignalled() {
        signal(SIGPIPE, SIG_IGN)
        let sources = [SIGTERM, SIGINT].map { number -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                logger.notice("signal \(number): shutting down",
                              metadata: ["grace_ms": "\(configuration.http.shutdownGraceMs)",
                                         "open_connections": "\(server.openConnections)"])
                server.shutdown()
            }
            source.resume()
            return source
        }
        start()
        waitUntilStopped()
        sources.forEach { $0.cancel() }
        logger.notice("stopped")
    }
}
