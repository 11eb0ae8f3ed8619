// ImpressionReferences: reading impressions with their references filled in. A cached list served
// again is logged as a small reference to the record that holds the list (`sameAs`); readers get
// whole records: a reference takes its origin's list, and one whose origin is gone (pruned: the
// origin is older by at most the cache TTL) is left out, as an expired impression would be.
import QuiverCore

extension EventStore {
    /// The impression logged for `requestID`, with a reference resolved; nil when there is none or
    /// its origin is gone.
    public func resolvedImpression(requestID: String) throws -> ImpressionRecord? {
        guard let record = try impression(requestID: requestID) else { return nil }
        guard let origin = record.sameAs else { return record }
        guard let list = try impression(requestID: origin), list.sameAs == nil else { return nil }
        return record.resolved(with: list)
    }

    /// The impressions logged at or after `timestamp`, references resolved (against the records
    /// read, else one lookup per origin older than `timestamp`); unresolvable references left out.
    public func resolvedImpressions(since timestamp: Double) throws -> [ImpressionRecord] {
        let records = try impressions(since: timestamp)
        var lists: [String: ImpressionRecord] = [:]
        for record in records where record.sameAs == nil { lists[record.requestID] = record }
        var resolved: [ImpressionRecord] = []
        resolved.reserveCapacity(records.count)
        for record in records {
            guard let origin = record.sameAs else { resolved.append(record); continue }
            if lists[origin] == nil, let older = try impression(requestID: origin), older.sameAs == nil { lists[origin] = older }
            if let list = lists[origin] { resolved.append(record.resolved(with: list)) }
        }
        return resolved
    }
}
