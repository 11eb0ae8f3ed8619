// ModelSnapshot: the versioned, uncompressed binary format of model snapshots.
// Layout: magic "QVMS", UInt16 format version, model name (length-prefixed UTF-8), then the
// model's fields, all little-endian. Invariant: a reader never traps on bad bytes; it throws.

/// Why a snapshot could not be restored.
public enum ModelSnapshotError: Error, Sendable, Equatable {
    case badMagic
    case wrongModel(expected: String, found: String)
    case unsupportedVersion(model: String, version: Int)
    case truncated
    case invalid(String)
}

/// Appends fields to a snapshot, little-endian.
public struct ModelSnapshotWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// Starts a snapshot for `model` at `version`.
    public init(model: String, version: Int) {
        bytes.reserveCapacity(256)
        bytes.append(contentsOf: Array("QVMS".utf8))
        write(UInt16(truncatingIfNeeded: version))
        write(model)
    }

    /// Writes 2 bytes, little-endian.
    public mutating func write(_ value: UInt16) {
        bytes.append(UInt8(truncatingIfNeeded: value))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
    }

    /// Writes 8 bytes, little-endian.
    public mutating func write(_ value: UInt64) {
        var v = value
        for _ in 0..<8 {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    /// Writes an Int as 8 bytes (Int64).
    public mutating func write(_ value: Int) { write(UInt64(bitPattern: Int64(value))) }
    /// Writes the IEEE-754 bit pattern.
    public mutating func write(_ value: Double) { write(value.bitPattern) }
    /// Writes one byte, 0 or 1.
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// Writes a length-prefixed UTF-8 string.
    public mutating func write(_ value: String) {
        let utf8 = Array(value.utf8)
        write(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    /// Writes a count then each value.
    public mutating func write(_ values: [Double]) {
        write(values.count)
        bytes.reserveCapacity(bytes.count + values.count * 8)
        for v in values { write(v) }
    }

    /// Writes a count then each 4-byte value.
    public mutating func write(_ values: [Float]) {
        write(values.count)
        for v in values {
            let bits = v.bitPattern
            for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
        }
    }

    /// Writes a length-prefixed byte blob (e.g. a nested snapshot).
    public mutating func write(bytes blob: [UInt8]) {
        write(blob.count)
        bytes.append(contentsOf: blob)
    }

    /// Writes a count then each string.
    public mutating func write(_ values: [String]) {
        write(values.count)
        for v in values { write(v) }
    }
}

/// Reads fields back from a snapshot, validating the header first.
public struct ModelSnapshotReader: Sendable {
    private let bytes: [UInt8]
    private var offset = 0
    /// The format version found in the header.
    public private(set) var version: Int

    /// Opens `bytes`, checking magic and model name, and that `version` is one of `supported`.
    public init(_ bytes: [UInt8], model: String, supported: ClosedRange<Int>) throws {
        self.bytes = bytes
        self.version = 0
        guard bytes.count >= 6, Array(bytes[0..<4]) == Array("QVMS".utf8) else { throw ModelSnapshotError.badMagic }
        offset = 4
        let found = Int(try readUInt16())
        let name = try readString()
        guard name == model else { throw ModelSnapshotError.wrongModel(expected: model, found: name) }
        guard supported.contains(found) else { throw ModelSnapshotError.unsupportedVersion(model: model, version: found) }
        self.version = found
    }

    /// True once every byte has been consumed.
    public var isAtEnd: Bool { offset == bytes.count }

    private mutating func take(_ count: Int) throws -> ArraySlice<UInt8> {
        guard count >= 0, bytes.count - offset >= count else { throw ModelSnapshotError.truncated }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// Reads what `write(_: UInt16)` wrote.
    public mutating func readUInt16() throws -> UInt16 {
        let s = try take(2)
        return UInt16(s[s.startIndex]) | UInt16(s[s.startIndex + 1]) << 8
    }

    /// Reads what `write(_: UInt64)` wrote.
    public mutating func readUInt64() throws -> UInt64 {
        let s = try take(8)
        var v: UInt64 = 0
        for (i, b) in s.enumerated() { v |= UInt64(b) << UInt64(8 * i) }
        return v
    }

    /// Reads what `write(_: Int)` wrote.
    public mutating func readInt() throws -> Int { Int(Int64(bitPattern: try readUInt64())) }
    /// Reads what `write(_: Double)` wrote.
    public mutating func readDouble() throws -> Double { Double(bitPattern: try readUInt64()) }
    /// Reads what `write(_: Bool)` wrote.
    public mutating func readBool() throws -> Bool { try take(1).first! != 0 }

    /// Reads a count and checks it is plausible for the bytes that remain.
    public mutating func readCount(elementSize: Int) throws -> Int {
        let n = try readInt()
        guard n >= 0, n <= (bytes.count - offset) / max(elementSize, 1) else { throw ModelSnapshotError.truncated }
        return n
    }

    /// Reads what `write(_: String)` wrote.
    public mutating func readString() throws -> String {
        let n = try readCount(elementSize: 1)
        return String(decoding: try take(n), as: UTF8.self)
    }

    /// Reads what `write(_: [Double])` wrote.
    public mutating func readDoubles() throws -> [Double] {
        let n = try readCount(elementSize: 8)
        var out = [Double]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readDouble()) }
        return out
    }

    /// Reads what `write(_: [Float])` wrote.
    public mutating func readFloats() throws -> [Float] {
        let n = try readCount(elementSize: 4)
        var out = [Float]()
        out.reserveCapacity(n)
        for _ in 0..<n {
            let s = try take(4)
            var bits: UInt32 = 0
            for (i, b) in s.enumerated() { bits |= UInt32(b) << UInt32(8 * i) }
            out.append(Float(bitPattern: bits))
        }
        return out
    }

    /// Reads a blob written by `write(bytes:)`.
    public mutating func readBytes() throws -> [UInt8] {
        let n = try readCount(elementSize: 1)
        return Array(try take(n))
    }

    /// Reads what `write(_: [String])` wrote.
    public mutating func readStrings() throws -> [String] {
        let n = try readCount(elementSize: 8)
        var out = [String]()
        out.reserveCapacity(n)
        for _ in 0..<n { out.append(try readString()) }
        return out
    }

    /// Throws unless every byte was consumed (catches format drift early).
    public func finish() throws {
        guard isAtEnd else { throw ModelSnapshotError.invalid("\(bytes.count - offset) trailing bytes") }
    }
}
