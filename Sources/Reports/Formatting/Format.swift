import Foundation

/// Locale-independent number, byte and date formatting, so reports (and golden files) read the
/// same on every machine.
enum Format {
    /// `1234567` -> `1,234,567`.
    static func count(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    static func count(_ value: Int) -> String { count(Int64(value)) }

    /// IEC units with one decimal: `1536` -> `1.5 KiB`; below 1 KiB exact bytes.
    static func bytes(_ value: Int64) -> String {
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB"]
        guard value.magnitude >= 1024 else { return "\(value) B" }
        var scaled = Double(value) / 1024
        var unit = 0
        while abs(scaled) >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        return "\(oneDecimal(scaled)) \(units[unit])"
    }

    /// Share as a percentage with one decimal: `percent(1, of: 3)` -> `33.3%`.
    static func percent(_ part: Int64, of whole: Int64) -> String {
        guard whole > 0 else { return "0.0%" }
        return oneDecimal(Double(part) * 100 / Double(whole)) + "%"
    }

    static func oneDecimal(_ value: Double) -> String {
        let tenths = Int64((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        return "\(sign)\(tenths.magnitude / 10).\(tenths.magnitude % 10)"
    }

    /// A signed change for "since the last run": `+12`, `-3`, `no change`.
    static func change(_ delta: Int64, bytes: Bool = false) -> String {
        if delta == 0 { return "no change" }
        let magnitude = bytes ? Self.bytes(Int64(delta.magnitude)) : count(Int64(delta.magnitude))
        return (delta > 0 ? "+" : "-") + magnitude
    }

    private static func utcFormatter(_ pattern: String) -> DateFormatter {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = pattern
        return formatter
    }

    /// `2026-11-20`, the name of a history folder.
    static func day(_ date: Date) -> String { utcFormatter("yyyy-MM-dd").string(from: date) }

    /// `2026-11-20 03:00 UTC`, for people.
    static func timestamp(_ date: Date) -> String { utcFormatter("yyyy-MM-dd HH:mm 'UTC'").string(from: date) }

    /// SQLite's `2026-11-20T03:00:00.000Z` shortened to `2026-11-20 03:00`.
    static func storedTimestamp(_ text: String) -> String {
        let trimmed = text.prefix(16)
        return trimmed.replacingOccurrences(of: "T", with: " ")
    }
}
