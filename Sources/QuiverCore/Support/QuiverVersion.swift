// QuiverVersion: the product version and API version, one place for `quiver version` and
// `GET /api/v1/version`.

/// The version of this build of Quiver.
public enum QuiverVersion {
    /// Semantic version of the server.
    public static let server = "0.1.0"
    /// Version of the public HTTP API (`/api/v1`).
    public static let api = "v1"
}
