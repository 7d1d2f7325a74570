import Foundation
import SQLInterface

/// The legacy `providers_json` map (provider id -> provider asset id), read and written in Swift
/// so that merges mean the same on every backend instead of leaning on one's JSON functions.
enum ProviderMap {
    /// Compact JSON object text with keys in order: `{"a":"1","b":"2"}`.
    static func json(_ pairs: [(String, String)]) throws -> String {
        let map = Dictionary(pairs, uniquingKeysWith: { first, _ in first })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(map), as: UTF8.self)
    }

    /// The map in `text`, or nil when it is not a JSON object whose values are strings or numbers
    /// (numbers are kept as their text, as SQLite's `CAST(value AS TEXT)` did).
    static func parse(_ text: String) -> [String: String]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            return nil
        }
        var map: [String: String] = [:]
        for (key, value) in object {
            switch value {
            case let string as String: map[key] = string
            case let number as NSNumber: map[key] = number.stringValue
            default: return nil
            }
        }
        return map
    }
}
