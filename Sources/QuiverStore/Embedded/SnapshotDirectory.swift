// SnapshotDirectory: model snapshots as files beside the embedded store, written off the log's
// writer thread so that a large snapshot never delays an acknowledgement. One file per snapshot,
// `models-<eventSeq>-<feedbackSeq>.qvs` = zlib stream of the snapshot bytes; written to a temporary
// name, fsynced, renamed, and the directory fsynced, so a crash leaves the old snapshot or the new
// one, never half of one. The newest `keep` are kept.
import Foundation
import Glibc

public struct SnapshotDirectory: SnapshotStore {
    public let path: String

    public init(path: String) throws {
        self.path = path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    /// (eventSeq, feedbackSeq, file name) of every complete snapshot, newest last.
    func entries() -> [(eventSeq: Int, feedbackSeq: Int, name: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        return names.compactMap { name -> (Int, Int, String)? in
            guard name.hasPrefix("models-"), name.hasSuffix(".qvs") else { return nil }
            let parts = name.dropFirst("models-".count).dropLast(".qvs".count).split(separator: "-")
            guard parts.count == 2, let e = Int(parts[0]), let f = Int(parts[1]) else { return nil }
            return (e, f, name)
        }
        .sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// The newest readable snapshot (an unreadable one is skipped for the one before it).
    public func latest() -> StoredSnapshot? {
        for entry in entries().reversed() {
            let file = path + "/" + entry.name
            guard let data = FileManager.default.contents(atPath: file),
                  let bytes = try? ZlibCodec.decompress(Array(data)) else { continue }
            let created = (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return StoredSnapshot(eventSeq: entry.eventSeq, feedbackSeq: entry.feedbackSeq, createdAt: created, bytes: bytes)
        }
        return nil
    }

    /// Writes `snapshot` durably and keeps the newest two.
    public func save(_ snapshot: StoredSnapshot) throws { try store(snapshot, keep: 2) }

    /// Writes `snapshot` durably and keeps the newest `keep`. Blocking: call it off the event loops.
    public func store(_ snapshot: StoredSnapshot, keep: Int = 2) throws {
        let name = "models-\(snapshot.eventSeq)-\(snapshot.feedbackSeq).qvs"
        let temporary = path + "/." + name + ".tmp"
        let compressed = ZlibCodec.compress(snapshot.bytes)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw EventLogError(message: "snapshot: cannot create \(temporary): errno \(errno)") }
        var written = 0
        let ok = compressed.withUnsafeBytes { buffer -> Bool in
            while written < buffer.count {
                let n = write(fd, buffer.baseAddress! + written, buffer.count - written)
                if n < 0 { if errno == EINTR { continue }; return false }
                written += n
            }
            return fsync(fd) == 0
        }
        close(fd)
        guard ok else { unlink(temporary); throw EventLogError(message: "snapshot: write failed: errno \(errno)") }
        guard rename(temporary, path + "/" + name) == 0 else {
            unlink(temporary); throw EventLogError(message: "snapshot: rename failed: errno \(errno)")
        }
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 { _ = fsync(directory); close(directory) }
        for old in entries().dropLast(max(1, keep)) { unlink(path + "/" + old.name) }
    }
}
