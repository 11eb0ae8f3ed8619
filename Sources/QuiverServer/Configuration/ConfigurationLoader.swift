// ConfigurationLoader: builds a QuiverConfiguration from its sources, in rising precedence:
// defaults, the YAML file, QUIVER_* environment variables, then `key=value` overrides from the
// command line. Any unknown key or bad value stops startup with an error naming it and its source.
import Yams

public enum ConfigurationLoader {
    /// Environment variables that start with this prefix belong to the test suite and are ignored.
    public static let reservedEnvironmentPrefixes = ["QUIVER_TEST_"]
    /// Environment variables that are not settings but are understood: the config file path.
    public static let fileEnvironmentVariable = "QUIVER_CONFIG"

    /// Loads the configuration.
    /// - Parameters:
    ///   - yaml: the text of the configuration file, if there is one, and its name for errors.
    ///   - environment: the process environment.
    ///   - overrides: `key=value` pairs from the command line, applied last.
    public static func load(
        yaml: (text: String, source: String)? = nil,
        environment: [String: String] = [:],
        overrides: [String] = []
    ) throws(ConfigurationError) -> QuiverConfiguration {
        var configuration = QuiverConfiguration()
        if let yaml {
            for (key, value) in try flatten(yaml: yaml.text, source: yaml.source) {
                try apply(key, value, source: yaml.source, to: &configuration)
            }
        }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("QUIVER_") {
            if name == fileEnvironmentVariable || reservedEnvironmentPrefixes.contains(where: name.hasPrefix) { continue }
            guard let setting = ConfigurationSettings.byEnvironment[name] else {
                throw ConfigurationError("environment variable \(name) is not a configuration setting")
            }
            try apply(setting.key, value, source: "environment variable \(name)", to: &configuration)
        }
        for override in overrides {
            guard let eq = override.firstIndex(of: "=") else {
                throw ConfigurationError("--set '\(override)' must be key=value")
            }
            try apply(String(override[..<eq]).trimmed, String(override[override.index(after: eq)...]),
                      source: "--set", to: &configuration)
        }
        try configuration.validateBackends()
        return configuration
    }

    static func apply(_ key: String, _ value: String, source: String,
                      to configuration: inout QuiverConfiguration) throws(ConfigurationError) {
        guard let setting = ConfigurationSettings.setting(key) else {
            throw ConfigurationError("\(source): unknown key '\(key)'")
        }
        do {
            try setting.write(&configuration, value)
        } catch {
            throw ConfigurationError("\(source): \(error.message)")
        }
    }

    /// The YAML document as (dotted key, scalar text) pairs, in document order.
    static func flatten(yaml: String, source: String) throws(ConfigurationError) -> [(String, String)] {
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw ConfigurationError("\(source): not valid YAML: \(error)")
        }
        guard let root else { return [] }  // an empty file
        guard case .mapping = root else { throw ConfigurationError("\(source): the top level must be a mapping") }
        var out: [(String, String)] = []
        try flatten(root, prefix: "", source: source, into: &out)
        return out
    }

    private static func flatten(_ node: Node, prefix: String, source: String,
                                into out: inout [(String, String)]) throws(ConfigurationError) {
        switch node {
        case .mapping(let mapping):
            for (keyNode, valueNode) in mapping {
                guard let name = keyNode.string else { throw ConfigurationError("\(source): a key under '\(prefix)' is not text") }
                try flatten(valueNode, prefix: prefix.isEmpty ? name : "\(prefix).\(name)", source: source, into: &out)
            }
        case .scalar(let scalar):
            // `~`/null and an empty value mean "unset" for optional keys and are an error elsewhere.
            let isNull = scalar.tag.description == Tag.Name.null.rawValue || ["~", "null", "Null", "NULL"].contains(scalar.string)
            out.append((prefix, isNull ? "" : scalar.string))
        case .sequence:
            throw ConfigurationError("\(source): '\(prefix)' must be a single value, not a list")
        }
    }

    /// The configuration as a YAML document: every key, its value and what it means.
    public static func render(_ configuration: QuiverConfiguration) -> String {
        var lines: [String] = []
        var openSections: [String] = []
        for setting in ConfigurationSettings.all {
            let parts = setting.key.split(separator: ".").map(String.init)
            let sections = Array(parts.dropLast())
            var common = 0
            while common < min(sections.count, openSections.count) && sections[common] == openSections[common] { common += 1 }
            if common == 0 && !lines.isEmpty { lines.append("") }
            for depth in common..<sections.count {
                lines.append(String(repeating: "  ", count: depth) + sections[depth] + ":")
            }
            openSections = sections
            let indent = String(repeating: "  ", count: sections.count)
            lines.append(indent + "# " + setting.summary + " (" + setting.environmentVariable + ")")
            lines.append(indent + parts.last! + ": " + yamlScalar(setting.value(in: configuration)))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func yamlScalar(_ text: String) -> String {
        if text.isEmpty { return "\"\"" }
        if text.contains(where: { ":#{}[],&*!|>'\"%@`".contains($0) }) || text != text.trimmed {
            return "\"" + text.replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return text
    }
}
