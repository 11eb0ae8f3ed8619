// Tests of event and item validation: every rule names its field, batches name the index, and the
// wire shapes decode from the snake_case JSON of the API.
import Foundation
import Testing
@testable import QuiverCore

@Suite struct EventsValidationTests {
    let validator = EventValidator(customTypes: ["share"])

    func event(_ mutate: (inout UserEvent) -> Void = { _ in }) -> UserEvent {
        var e = UserEvent(userID: "u1", itemID: "i9", type: .click, value: 1, timestamp: 1_764_000_000.5,
                          context: EventContext(device: "mobile"))
        mutate(&e)
        return e
    }

    @Test func acceptsAWellFormedEvent() throws {
        try validator.validate(event())
        try validator.validate(event { $0.type = "share" })
        try validator.validate(event { $0.itemID = nil; $0.timestamp = nil })
    }

    static let badEvents: [(String, @Sendable (inout UserEvent) -> Void, String)] = [
        ("empty user", { $0.userID = "" }, "events[0].user_id: must be a non-empty string of at most 256 bytes"),
        ("long user", { $0.userID = String(repeating: "x", count: 257) },
         "events[0].user_id: must be a non-empty string of at most 256 bytes"),
        ("empty item", { $0.itemID = "" }, "events[0].item_id: must be a non-empty string of at most 256 bytes"),
        ("nan value", { $0.value = .nan }, "events[0].value: must be a finite number"),
        ("infinite value", { $0.value = .infinity }, "events[0].value: must be a finite number"),
        ("negative time", { $0.timestamp = -1 }, "events[0].timestamp: must be Unix seconds between 0 and 4102444800"),
        ("far future", { $0.timestamp = 5e9 }, "events[0].timestamp: must be Unix seconds between 0 and 4102444800"),
        ("long device", { $0.context.device = String(repeating: "d", count: 300) },
         "events[0].context.device: must be a string of at most 256 bytes"),
    ]

    @Test(arguments: 0..<badEvents.count)
    func rejectsWithTheFieldNamed(case index: Int) {
        let (_, mutate, expected) = Self.badEvents[index]
        #expect(throws: EventValidationError.self) { try validator.validate(batch: [event(mutate)]) }
        do {
            try validator.validate(batch: [event(mutate)])
        } catch {
            #expect(error.description == expected)
        }
    }

    @Test func namesTheIndexInABatch() {
        let batch = [event(), event(), event(), event { $0.userID = "" }]
        #expect(throws: EventValidationError(field: "events[3].user_id",
                                             message: "must be a non-empty string of at most 256 bytes")) {
            try validator.validate(batch: batch)
        }
    }

    @Test func rejectsUnknownTypeListingKnownOnes() throws {
        let error = try #require(throws: EventValidationError.self) { try validator.validate(event { $0.type = "teleport" }) }
        #expect(error.field == "event.type")
        #expect(error.message.contains("add_to_cart"))
        #expect(error.message.contains("share"))
    }

    @Test func rejectsEmptyAndOversizedBatches() {
        #expect(throws: EventValidationError.self) { try validator.validate(batch: []) }
        var small = EventValidator()
        small.limits.maxBatchSize = 2
        #expect(throws: EventValidationError(field: "events", message: "must hold between 1 and 2 events")) {
            try small.validate(batch: [event(), event(), event()])
        }
    }

    @Test func rejectsTooManyContextEntries() {
        var attributes: [String: String] = [:]
        for i in 0..<33 { attributes["k\(i)"] = "v" }
        #expect(throws: EventValidationError(field: "event.context.attributes", message: "must hold at most 32 entries")) {
            try validator.validate(event { $0.context.attributes = attributes })
        }
    }

    @Test func validatesItems() throws {
        try validator.validate(CatalogItem(itemID: "i1", categories: ["shoes"], attributes: ["price": 59]))
        #expect(throws: EventValidationError(field: "items[2].categories[1]",
                                             message: "must be a non-empty string of at most 256 bytes")) {
            try validator.validate(CatalogItem(itemID: "i1", categories: ["a", ""]), path: "items[2]")
        }
        #expect(throws: EventValidationError(field: "item.attributes.price", message: "must be a finite number")) {
            try validator.validate(CatalogItem(itemID: "i1", attributes: ["price": .nan]))
        }
        #expect(throws: EventValidationError(field: "item.embedding[1]", message: "must be a finite number")) {
            try validator.validate(CatalogItem(itemID: "i1", embedding: [0, .infinity]))
        }
    }

    @Test func stampsOnlyMissingTimestamps() {
        let unstamped = event { $0.timestamp = nil }
        #expect(unstamped.stamped(at: 1_800_000_000).timestamp == 1_800_000_000)
        #expect(event().stamped(at: 1_800_000_000).timestamp == 1_764_000_000.5)
    }

    @Test func decodesTheApiEventShape() throws {
        let json = """
            {"events": [{"user_id": "u1", "item_id": "i9", "type": "click", "value": 1.0,
                         "timestamp": 1764000000.5, "context": {"device": "mobile"}},
                        {"user_id": "u2", "type": "view"}]}
            """
        struct Batch: Decodable { let events: [UserEvent] }
        let batch = try JSONDecoder().decode(Batch.self, from: Data(json.utf8))
        #expect(batch.events[0] == event())
        #expect(batch.events[1] == UserEvent(userID: "u2", type: .view))
        #expect(batch.events[1].value == 1)
    }

    @Test func decodesTheApiItemShape() throws {
        let json = """
            {"item_id": "i9", "title": "Runner", "categories": ["shoes"], "tags": [],
             "attributes": {"price": 59.0}, "available": true}
            """
        let item = try JSONDecoder().decode(CatalogItem.self, from: Data(json.utf8))
        #expect(item == CatalogItem(itemID: "i9", title: "Runner", categories: ["shoes"], attributes: ["price": 59]))
    }
}
