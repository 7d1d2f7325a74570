/// The shared SQL's placeholders rewritten for PostgreSQL: `?` and `?N` become `$N`.
///
/// SQLite's rules: `?N` is parameter N (reusable); a bare `?` is one more than the largest
/// number used so far. Quoted text is left alone: '…' literals (with '' and, after E, backslash
/// escapes), "…" identifiers, $tag$…$tag$ bodies, -- and /* */ comments. PostgreSQL's own
/// `?`-operators (jsonb `?`, `?|`, `?&`) cannot be written in shared SQL; use `jsonb_exists`.
/// Made once per SQL text: prepared statements keep it beside their name.
struct PlaceholderTranslation: Equatable {
    /// The SQL with `$N` placeholders.
    let text: String
    /// The largest parameter number used: how many arguments the statement takes.
    let parameterCount: Int

    init(_ sql: String) {
        let source = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(source.count + 8)
        var highest = 0
        var index = 0

        /// Copies source[index...] up to and including the end of a quoted run ending in `quote`,
        /// where a doubled quote is an escaped one (and, when `backslashes`, `\x` is too).
        func copyQuoted(_ quote: UInt8, backslashes: Bool) {
            output.append(source[index])
            index += 1
            while index < source.count {
                let byte = source[index]
                output.append(byte)
                index += 1
                if backslashes && byte == UInt8(ascii: "\\") && index < source.count {
                    output.append(source[index])
                    index += 1
                } else if byte == quote {
                    guard index < source.count, source[index] == quote else { return }
                    output.append(quote)
                    index += 1
                }
            }
        }

        func isIdentifierByte(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "_") || byte >= 0x80
                || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        while index < source.count {
            let byte = source[index]
            let next: UInt8? = index + 1 < source.count ? source[index + 1] : nil
            switch byte {
            case UInt8(ascii: "'"):
                let escapePrefix =
                    index > 0 && source[index - 1] | 0x20 == UInt8(ascii: "e")
                    && (index < 2 || !isIdentifierByte(source[index - 2]))
                copyQuoted(byte, backslashes: escapePrefix)
            case UInt8(ascii: "\""):
                copyQuoted(byte, backslashes: false)
            case UInt8(ascii: "-") where next == UInt8(ascii: "-"):
                while index < source.count && source[index] != UInt8(ascii: "\n") {
                    output.append(source[index])
                    index += 1
                }
            case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                var depth = 0
                repeat {
                    if source[index] == UInt8(ascii: "/"), index + 1 < source.count,
                        source[index + 1] == UInt8(ascii: "*")
                    {
                        depth += 1
                        output += [source[index], source[index + 1]]
                        index += 2
                    } else if source[index] == UInt8(ascii: "*"), index + 1 < source.count,
                        source[index + 1] == UInt8(ascii: "/")
                    {
                        depth -= 1
                        output += [source[index], source[index + 1]]
                        index += 2
                    } else {
                        output.append(source[index])
                        index += 1
                    }
                } while depth > 0 && index < source.count
            case UInt8(ascii: "$") where index == 0 || !isIdentifierByte(source[index - 1]):
                // A dollar-quoted body: $$…$$ or $tag$…$tag$ (a tag does not start with a digit).
                var end = index + 1
                while end < source.count && isIdentifierByte(source[end]) && !(end == index + 1 && isDigit(source[end]))
                {
                    end += 1
                }
                guard end < source.count, source[end] == UInt8(ascii: "$") else {
                    output.append(byte)
                    index += 1
                    break
                }
                let tag = Array(source[index...end])
                output += tag
                index = end + 1
                while index < source.count {
                    if source[index] == UInt8(ascii: "$"), source.count - index >= tag.count,
                        Array(source[index..<index + tag.count]) == tag
                    {
                        output += tag
                        index += tag.count
                        break
                    }
                    output.append(source[index])
                    index += 1
                }
            case UInt8(ascii: "?"):
                index += 1
                var number = 0
                var digits = 0
                while index < source.count, isDigit(source[index]) {
                    number = number * 10 + Int(source[index] - UInt8(ascii: "0"))
                    digits += 1
                    index += 1
                }
                if digits == 0 { number = highest + 1 }
                highest = max(highest, number)
                output.append(UInt8(ascii: "$"))
                output += Array(String(number).utf8)
            default:
                output.append(byte)
                index += 1
            }
        }
        self.text = String(decoding: output, as: UTF8.self)
        self.parameterCount = highest
    }
}
