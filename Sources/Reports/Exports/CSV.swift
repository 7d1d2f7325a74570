/// RFC 4180 fields, plus a guard against spreadsheet formulas in text that came from users.
enum CSV {
    /// Quotes a field when it holds a comma, quote or line break; doubles inner quotes.
    static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingQuotes() + "\""
    }

    /// A user-supplied text (file name, note): a leading `=`, `+`, `-` or `@` would make a
    /// spreadsheet evaluate it, so such a value gets a leading `'` (OWASP's advice).
    static func text(_ text: String?) -> String {
        guard let text else { return "" }
        let inert = text.first.map { "=+-@\t\r".contains($0) } == true ? "'" + text : text
        return field(inert)
    }

    static func row(_ fields: [String]) -> String { fields.joined(separator: ",") + "\r\n" }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self {
            if character == "\"" { out += "\"\"" } else { out.append(character) }
        }
        return out
    }
}
