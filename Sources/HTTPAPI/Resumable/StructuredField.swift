import Foundation

/// The few RFC 9651 structured-field shapes the resumable-upload headers use: booleans
/// (`Upload-Complete`), non-negative integers (`Upload-Offset`, `Upload-Length`) and a dictionary
/// of byte sequences (`Repr-Digest`, RFC 9530). Pure parsing; nil means "not that shape".
enum StructuredField {
    /// `?0` or `?1`, with optional surrounding spaces.
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingCharacters(in: .whitespaces) {
        case "?1": true
        case "?0": false
        default: nil
        }
    }

    /// An sf-integer that is not negative: 1 to 15 digits (RFC 9651's limit), nothing else.
    static func nonNegativeInteger(_ text: String) -> Int64? {
        let digits = text.trimmingCharacters(in: .whitespaces).utf8
        guard (1...15).contains(digits.count), digits.allSatisfy({ (48...57).contains($0) }) else { return nil }
        return Int64(String(decoding: digits, as: UTF8.self))
    }

    /// A dictionary's members whose values are byte sequences (`key=:base64:`), parameters
    /// ignored. Members of other types are skipped; a syntax error makes the whole field nil.
    static func byteSequences(_ text: String) -> [String: [UInt8]]? {
        var result: [String: [UInt8]] = [:]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty { return nil }
        for member in trimmed.split(separator: ",", omittingEmptySubsequences: false) {
            let member = member.trimmingCharacters(in: .whitespaces)
            guard let equals = member.firstIndex(of: "=") else {
                // A bare key is the boolean true: valid, not a byte sequence.
                guard isKey(Substring(member.split(separator: ";").first ?? "")) else { return nil }
                continue
            }
            let key = member[..<equals]
            guard isKey(key) else { return nil }
            let value = member[member.index(after: equals)...].split(separator: ";", maxSplits: 1).first ?? ""
            guard value.first == ":" else { continue }  // another item type
            guard value.count >= 2, value.last == ":",
                let bytes = Data(base64Encoded: String(value.dropFirst().dropLast()))
            else { return nil }
            result[String(key)] = Array(bytes)
        }
        return result
    }

    /// An sf key: starts with a lower-case letter or `*`, then lcalpha, digits, `_-.*`.
    private static func isKey(_ key: Substring) -> Bool {
        guard let first = key.utf8.first, (97...122).contains(first) || first == 42 else { return false }
        return key.utf8.allSatisfy {
            (97...122).contains($0) || (48...57).contains($0) || [95, 45, 46, 42].contains($0)
        }
    }
}
