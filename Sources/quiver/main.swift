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
        subcommands: [Serve.self, Version.self, Config.self],
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
