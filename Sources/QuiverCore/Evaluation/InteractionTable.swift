// InteractionTable: parses in-memory delimited text (RecBole `.inter` files, simple CSV) into rows
// and interactions. Reading files is I/O and belongs to the server; this only sees strings.
// Invariant: no quoting support — fields may not contain the separator; a bad row is an error
// naming its line, never a crash.

/// A header plus rows of fields, split on one separator character.
public struct DelimitedTable: Sendable {
    /// Column names with any RecBole `:type` suffix removed.
    public let columns: [String]
    public let rows: [[Substring]]

    /// Why text could not be parsed.
    public enum ParseError: Error, Sendable, Equatable {
        case emptyInput
        case wrongFieldCount(line: Int, expected: Int, found: Int)
        case missingColumn(String)
        case badNumber(line: Int, column: String)
    }

    /// Parses `text`: first line is the header; blank lines are skipped.
    public init(parsing text: String, separator: Character) throws {
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline).makeIterator()
        guard let header = lines.next() else { throw ParseError.emptyInput }
        columns = header.split(separator: separator, omittingEmptySubsequences: false).map {
            String($0.split(separator: ":").first ?? $0).trimmingCharacters()
        }
        var rows: [[Substring]] = []
        var lineNumber = 1
        for line in lines {
            lineNumber += 1
            let fields = line.split(separator: separator, omittingEmptySubsequences: false)
            guard fields.count == columns.count else {
                throw ParseError.wrongFieldCount(line: lineNumber, expected: columns.count, found: fields.count)
            }
            rows.append(fields)
        }
        self.rows = rows
    }

    /// Index of a column by name.
    public func column(_ name: String) throws -> Int {
        guard let i = columns.firstIndex(of: name) else { throw ParseError.missingColumn(name) }
        return i
    }

    /// A numeric column.
    public func doubles(_ name: String) throws -> [Double] {
        let c = try column(name)
        return try rows.enumerated().map { line, row in
            guard let v = Double(row[c]) else { throw ParseError.badNumber(line: line + 2, column: name) }
            return v
        }
    }

    /// A string column.
    public func strings(_ name: String) throws -> [String] {
        let c = try column(name)
        return rows.map { String($0[c]) }
    }
}

extension String {
    fileprivate func trimmingCharacters() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}

extension ReplayInteraction {
    /// Parses a RecBole `.inter` table (`user_id`, `item_id`, optional `rating`, `timestamp`; tab-separated).
    public static func parseInteractions(_ text: String, separator: Character = "\t") throws -> [ReplayInteraction] {
        let table = try DelimitedTable(parsing: text, separator: separator)
        let users = try table.strings("user_id")
        let items = try table.strings("item_id")
        let times = try table.doubles("timestamp")
        let values = table.columns.contains("rating") ? try table.doubles("rating") : [Double](repeating: 1, count: users.count)
        return users.indices.map {
            ReplayInteraction(userId: users[$0], itemId: items[$0], value: values[$0], timestamp: times[$0])
        }
    }
}
