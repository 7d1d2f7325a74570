/// Makes text from outside (file names, notes, user names) inert inside generated Markdown.
///
/// The result renders as exactly the original characters, wherever a template puts it: in a
/// paragraph, a heading or a table cell. It can never start a list, heading, quote or HTML
/// block, split a table cell, open a link or emphasis, or carry a raw tag; line breaks and other
/// control characters, which would end a table row, become visible symbols.
public enum MarkdownEscaping {
    /// Punctuation with a meaning somewhere in CommonMark or in pipe tables; each gets a
    /// backslash, which CommonMark defines as "this character, literally".
    static let special: Set<Character> = [
        "\\", "`", "*", "_", "[", "]", "<", ">", "|", "#", "!", "~", "&", "{", "}", "$",
    ]

    /// Escapes one value for inline use.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count + 8)
        let characters = Array(text)
        for (index, character) in characters.enumerated() {
            let atStart = index == 0
            switch character {
            case "\r\n", "\n", "\r", "\u{2028}", "\u{2029}", "\u{85}":
                out += "\u{21B5}"  // DOWNWARDS ARROW WITH CORNER LEFTWARDS: the break stays visible, the row stays whole
            case "\t":
                out += " "
            case _ where character.unicodeScalars.contains(where: isControl):
                out += "\u{FFFD}"
            case "_" where isWordCharacter(characters, index - 1) && isWordCharacter(characters, index + 1):
                out.append(character)  // intraword `_` (snake_case) can never open or close emphasis
            case _ where special.contains(character):
                out += "\\"
                out.append(character)
            case _ where atStart && "-+=".contains(character) && startsBlock(characters):
                // "- x", "+ x", "---", "===" at the start of a line: a list, a rule or a heading underline.
                out += "\\"
                out.append(character)
            case " " where atStart:
                out += "&#32;"  // leading spaces would otherwise be trimmed or start a code block
            default:
                out.append(character)
            }
        }
        // "1. x" or "2) x" at the start would open an ordered list: escape the dot or bracket.
        let digits = characters.prefix { $0.isASCII && $0.isNumber }
        if (1...9).contains(digits.count), digits.count < characters.count,
            characters[digits.count] == "." || characters[digits.count] == ")",
            digits.count + 1 == characters.count || characters[digits.count + 1] == " "
        {
            out.insert("\\", at: out.index(out.startIndex, offsetBy: digits.count))
        }
        return out
    }

    /// A leading `-`, `+` or `=` matters when a space, the end, or a run of the same sign follows.
    private static func startsBlock(_ characters: [Character]) -> Bool {
        guard characters.count > 1 else { return true }
        return characters[1] == " " || characters[1] == characters[0]
    }

    private static func isWordCharacter(_ characters: [Character], _ index: Int) -> Bool {
        characters.indices.contains(index) && (characters[index].isLetter || characters[index].isNumber)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
