// RecommendationService+Profiles: the seed's UserProfile: real-time features, explicit preferences
// (durable; they steer candidate sources and add a score boost), recent behaviour, the learned
// embedding. A PUT merges preferences (or replaces them with "replace": true).
import Foundation
import QuiverCore
import QuiverStore

extension RecommendationService {
    static let maxPreferenceEntries = 100

    func profile(of userID: String) -> UserProfileBody {
        let now = Date().timeIntervalSince1970
        let stored = profiles.withLock { $0[userID] }
        let features = features.engine.features(for: userID, context: .empty, now: now)
        let (seen, embedding) = state.read { ($0.models.seen.items(of: userID), $0.models.embeddings.userEmbedding(userID)) }
        let affinities = self.features.engine.categoryAffinities(for: userID, now: now, limit: 10)
        return UserProfileBody(
            user_id: userID, features: features,
            preferences: .init(preferred_categories: stored?.preferredCategories ?? [:],
                               blocked_categories: stored?.blockedCategories ?? [], attributes: stored?.attributes ?? [:]),
            recent_behavior: .init(recent_items: Array(seen.suffix(20).reversed()), interactions: seen.count,
                                   category_affinities: affinities),
            embedding: embedding, last_updated: stored?.updatedAt)
    }

    func updateProfile(of userID: String, with update: ProfileUpdate) async -> Result<UserProfileBody, RequestFault> {
        let p = update.preferences
        if let preferred = p.preferredCategories {
            guard preferred.count <= Self.maxPreferenceEntries else {
                return .failure(RequestFault(field: "preferences.preferred_categories", message: "must hold at most \(Self.maxPreferenceEntries) entries"))
            }
            for (category, strength) in preferred.sorted(by: { $0.key < $1.key }) {
                if let fault = Self.checkIdentifier(category, field: "preferences.preferred_categories") { return .failure(fault) }
                guard strength.isFinite, (0...1).contains(strength) else {
                    return .failure(RequestFault(field: "preferences.preferred_categories.\(category)", message: "must be a strength in [0, 1]"))
                }
            }
        }
        if let blocked = p.blockedCategories {
            guard blocked.count <= Self.maxPreferenceEntries else {
                return .failure(RequestFault(field: "preferences.blocked_categories", message: "must hold at most \(Self.maxPreferenceEntries) entries"))
            }
            for (i, category) in blocked.enumerated() {
                if let fault = Self.checkIdentifier(category, field: "preferences.blocked_categories[\(i)]") { return .failure(fault) }
            }
        }
        if let attributes = p.attributes {
            guard attributes.count <= 32 else {
                return .failure(RequestFault(field: "preferences.attributes", message: "must hold at most 32 entries"))
            }
            for (key, value) in attributes where key.isEmpty || key.utf8.count > 64 || value.utf8.count > 256 {
                return .failure(RequestFault(field: "preferences.attributes.\(key)", message: "keys must be 1-64 bytes and values at most 256"))
            }
        }
        let now = Date().timeIntervalSince1970
        var profile = profiles.withLock { $0[userID] } ?? StoredProfile(userID: userID, updatedAt: now)
        if update.replace == true { profile = StoredProfile(userID: userID, updatedAt: now) }
        for (category, strength) in p.preferredCategories ?? [:] { profile.preferredCategories[category] = strength }
        if let blocked = p.blockedCategories { profile.blockedCategories = Array(Set(profile.blockedCategories + blocked)).sorted() }
        for (key, value) in p.attributes ?? [:] { profile.attributes[key] = value }
        // A category cannot be both preferred and blocked: the newest statement wins.
        for category in p.blockedCategories ?? [] { profile.preferredCategories[category] = nil }
        for category in (p.preferredCategories ?? [:]).keys { profile.blockedCategories.removeAll { $0 == category } }
        profile.updatedAt = now
        do {
            try await features.log.store(profile)
        } catch {
            return .failure(RequestFault(field: "", message: "the profile could not be stored: \(error)", code: "store_unavailable"))
        }
        // The commit observer has put the profile in place and told the user's listeners.
        return .success(self.profile(of: userID))
    }
}
