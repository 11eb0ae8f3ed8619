// quiver: the executable. Argument parsing and `main`, nothing else: every subcommand hands
// over to the library targets.
import ArgumentParser
import Foundation
import QuiverCore
import QuiverServer

@main
struct Quiver: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quiver",
        abstract: "Quiver: a real-time personalization server.",
        subcommands: [Serve.self, Version.self, Config.self, Migrate.self, Replay.self, OPE.self],
        defaultSubcommand: Serve.self
    )
}

/// Options every command that reads the configuration shares.
struct ConfigurationOptions: ParsableArguments {
    @Option(name: .long, help: "A YAML configuration file (default: $QUIVER_CONFIG, else none).")
    var config: String?

    @Option(name: .long, help: "Address to listen on (server.host).")
    var host: String?

    @Option(name: .long, help: "TCP port (server.port).")
    var port: Int?

    @Option(name: .long, help: "Directory of the embedded store (storage.data_dir).")
    var dataDir: String?

    @Option(name: [.customLong("set")], help: "Override any setting: --set key=value (repeatable).")
    var overrides: [String] = []

    func load() throws -> QuiverConfiguration {
        let environment = ProcessInfo.processInfo.environment
        var yaml: (text: String, source: String)?
        if let path = config ?? environment[ConfigurationLoader.fileEnvironmentVariable] {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("cannot read configuration file '\(path)'")
            }
            yaml = (text, path)
        }
        var flags = overrides
        if let host { flags.append("server.host=\(host)") }
        if let port { flags.append("server.port=\(port)") }
        if let dataDir { flags.append("storage.data_dir=\(dataDir)") }
        do {
            return try ConfigurationLoader.load(yaml: yaml, environment: environment, overrides: flags)
        } catch {
            throw ValidationError(error.description)
        }
    }
}

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the server (the embedded store by default).")

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let configuration = try options.load()
        let application: QuiverApplication
        do {
            application = try QuiverApplication(configuration: configuration)
        } catch {
            FileHandle.standardError.write(Array("quiver: cannot start: \(error)\n".utf8).withUnsafeBufferPointer { Data($0) })
            throw ExitCode(1)
        }
        application.runUntilSignalled()
    }
}

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply pending PostgreSQL schema migrations (postgres.url); `serve` applies them too.")

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        let configuration = try options.load()
        do {
            let applied = try StorageMigrations.migrate(configuration)
            print(applied.isEmpty ? "schema is current" : "applied migrations \(applied.map(String.init).joined(separator: ", "))")
        } catch {
            FileHandle.standardError.write(Data("quiver: migrate failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")

    func run() {
        print("quiver \(QuiverVersion.server) (API \(QuiverVersion.api))")
    }
}

struct Config: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the effective configuration as YAML (every key, its value, its environment variable).")

    @OptionGroup var options: ConfigurationOptions

    func run() throws {
        print(ConfigurationLoader.render(try options.load()), terminator: "")
    }
}

struct Replay: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prequential replay of a timestamped interaction file: HR@k and NDCG@k per model.",
        discussion: """
        Sorts by time, feeds the first part, then for each later event asks each model for the user's
        top k (excluding items the user already had), counts a hit when the event's item is among
        them, then feeds the event. The file is RecBole's .inter format (user_id, item_id, optional
        rating, timestamp; tab- or comma-separated), e.g. ml-100k.inter from ../shared/data/fetch.sh.
        """)

    @Argument(help: "The interaction file.")
    var file: String

    @Option(help: "Comma-separated models: \(EvaluationRunner.replayModels.joined(separator: ",")).")
    var models = EvaluationRunner.replayModels.joined(separator: ",")

    @Option(help: "Share of events fed before evaluation starts.")
    var trainFraction = 0.8

    @Option(help: "The k of HR@k and NDCG@k.")
    var top = 10

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func validate() throws {
        guard (0.0..<1.0).contains(trainFraction) else { throw ValidationError("--train-fraction must be in [0, 1)") }
        guard top > 0 else { throw ValidationError("--top must be positive") }
    }

    func run() throws {
        let names = models.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        let results: [ReplayResult]
        do {
            results = try EvaluationRunner.replay(interactionsPath: file, models: names, trainFraction: trainFraction, cutoff: top)
        } catch {
            throw ValidationError("\(error)")
        }
        if json { print(EvaluationRunner.json(results)); return }
        print("model          HR@\(top)    NDCG@\(top)  evaluated  seconds  events/s")
        for r in results {
            print(r.model.padding(toLength: 13, withPad: " ", startingAt: 0)
                  + String(format: "  %.4f   %.4f   %8d  %7.2f  %8.0f", r.hit_rate, r.ndcg, r.evaluated_events, r.seconds, r.events_per_second))
        }
    }
}

struct OPE: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ope",
        abstract: "Off-policy evaluation (IPS, SNIPS, DM, DR with 95% intervals) of the uniform-random policy on logged bandit data.",
        discussion: "The file is an Open Bandit Dataset CSV (item_id, click, propensity_score), e.g. obd/random/all/all.csv.")

    @Argument(help: "The logged-feedback CSV.")
    var file: String

    @Flag(help: "Print JSON instead of a table.")
    var json = false

    func run() throws {
        let report: OPEReport
        do { report = try EvaluationRunner.offPolicy(csvPath: file) } catch { throw ValidationError("\(error)") }
        if json { print(EvaluationRunner.json(report)); return }
        print("\(report.impressions) impressions, \(report.actions) actions, logged click rate \(String(format: "%.5f", report.logged_click_rate))")
        print("policy: \(report.policy)")
        for e in report.estimates {
            print("  " + e.estimator.padding(toLength: 6, withPad: " ", startingAt: 0)
                  + String(format: " %.5f  [%.5f, %.5f]  ESS %.0f", e.value, e.lower, e.upper, e.effective_sample_size))
        }
    }
}
