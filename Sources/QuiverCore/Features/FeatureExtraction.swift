// FeatureExtraction: the four extractors that turn a user's state and a request context into the
// dense vector: temporal (hour, weekday, session), contextual (device, locale, page), behavioral
// (the user-key outputs of the active definitions, category summary) and aggregated (derived
// ratios and trends). Invariant: writes exactly `layout.count` values in layout order; `now` and
// the context are the only inputs besides state (a `utc_offset_minutes` context value shifts the
// temporal features to local time).
import Foundation

enum FeatureExtraction {
    /// Fills `out` (resized to the layout) with the user's vector at `now`.
    static func fillVector(state: UserFeatureState?, schema: FeatureSchema, context: EventContext, now: Double,
                           into out: inout [Double]) {
        let count = schema.layout.count
        if out.count != count { out = Array(repeating: 0, count: count) }
        let empty = UserFeatureState()
        let s = state ?? empty
        temporal(state: s, gap: Double(schema.definitions.sessionGap.seconds), context: context, now: now, into: &out)
        contextual(context, into: &out, offset: FeatureVectorLayout.temporalNames.count)
        let reader = ArenaReader(arena: s.arena, specs: schema.specs[FeatureKeyKind.user.index])
        schema.userPlan.evaluate(reader, at: now, into: &out, offset: FeatureVectorLayout.userOutputOffset)
        let summary = FeatureVectorLayout.userOutputOffset + schema.userPlan.count
        out[summary] = Double(s.categories.count)
        out[summary + 1] = topCategoryShare(s, now: now)
    }

    static func temporal(state: UserFeatureState, gap: Double, context: EventContext, now: Double,
                         into out: inout [Double]) {
        let offsetMinutes = context.attributes["utc_offset_minutes"].flatMap(Double.init) ?? 0
        let local = now + (offsetMinutes.isFinite ? offsetMinutes * 60 : 0)
        let day = (local / 86_400).rounded(.down)
        let secondOfDay = local - day * 86_400
        let hour = (secondOfDay / 3_600).rounded(.down)
        var weekday = (Int(day) + 3) % 7  // 1970-01-01 was a Thursday; 0 = Monday
        if weekday < 0 { weekday += 7 }
        let angle = 2 * Double.pi * secondOfDay / 86_400
        let active = state.newestEventTime != -.infinity && now - state.newestEventTime <= gap
        out[0] = hour
        out[1] = sin(angle)
        out[2] = cos(angle)
        out[3] = Double(weekday)
        out[4] = weekday >= 5 ? 1 : 0
        out[5] = active ? max(0, now - state.sessionStart) : 0
        out[6] = active ? Double(state.sessionEventCount) : 0
        out[7] = state.newestEventTime == -.infinity
            ? featureRecencyCap : min(featureRecencyCap, max(0, now - state.newestEventTime))
    }

    static func contextual(_ context: EventContext, into out: inout [Double], offset: Int) {
        for i in 0..<FeatureVectorLayout.contextualNames.count { out[offset + i] = 0 }
        if let device = context.device?.lowercased() {
            switch device {
            case "mobile", "phone", "ios", "android": out[offset] = 1
            case "desktop", "web", "pc": out[offset + 1] = 1
            case "tablet", "ipad": out[offset + 2] = 1
            default: out[offset + 3] = 1
            }
        }
        out[offset + 4] = (context.locale?.isEmpty ?? true) ? 0 : 1
        out[offset + 5] = (context.page?.isEmpty ?? true) ? 0 : 1
    }

    static func topCategoryShare(_ state: UserFeatureState, now: Double) -> Double {
        var total = 0.0, top = 0.0
        for c in state.categories {
            let v = c.affinity.value(at: now)
            total += v
            top = max(top, v)
        }
        return total > 0 ? top / total : 0
    }

    /// Assembles the seed's four groups from a vector and the state.
    static func features(userID: String, state: UserFeatureState?, schema: FeatureSchema, context: EventContext,
                         now: Double, topCategories: Int = 5) -> RealTimeFeatures {
        var vector: [Double] = []
        fillVector(state: state, schema: schema, context: context, now: now, into: &vector)
        var groups: [FeatureGroup: [String: Double]] = [.temporal: [:], .behavioral: [:], .contextual: [:], .aggregated: [:]]
        for (i, name) in schema.layout.names.enumerated() { groups[schema.layout.groups[i], default: [:]][name] = vector[i] }
        for affinity in (state?.categoryAffinities(at: now) ?? []).prefix(topCategories) {
            groups[.behavioral, default: [:]]["affinity.\(affinity.category)"] = affinity.score
        }
        for (key, text) in context.attributes {
            if let number = Double(text), number.isFinite { groups[.contextual, default: [:]]["ctx.\(key)"] = number }
        }
        var recent: [String: [String]] = [:]
        for (d, id) in zip(schema.definitions.definitions, schema.activeStreamIDs)
        where d.key == .user && d.aggregations.contains(.lastN) {
            recent[d.name] = state?.arena.recentItems(stream: id).map(\.itemID) ?? []
        }
        return RealTimeFeatures(
            userID: userID, temporal: groups[.temporal] ?? [:], behavioral: groups[.behavioral] ?? [:],
            contextual: groups[.contextual] ?? [:], aggregated: groups[.aggregated] ?? [:], recentItems: recent,
            version: schema.definitions.version, timestamp: now)
    }
}
