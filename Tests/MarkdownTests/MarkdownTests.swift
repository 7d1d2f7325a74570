import Markdown
import Testing

@Suite struct MarkdownTests {
    @Test func pipeTablesBecomeHTMLTablesWithAlignment() {
        let html = Markdown.html(from: "Intro\n\n| Name | Size |\n| --- | ---: |\n| a *b* | 1 |\n| c | 22 |\n\nAfter\n")
        #expect(
            html == """
                <p>Intro</p>
                <table>
                <thead>
                <tr>
                <th>Name</th>
                <th align="right">Size</th>
                </tr>
                </thead>
                <tbody>
                <tr>
                <td>a <em>b</em></td>
                <td align="right">1</td>
                </tr>
                <tr>
                <td>c</td>
                <td align="right">22</td>
                </tr>
                </tbody>
                </table>
                <p>After</p>

                """)
    }

    @Test func escapedPipeStaysInsideItsCell() {
        let html = Markdown.html(from: "| a | b |\n| --- | --- |\n| x \\| y | z |\n")
        #expect(html.contains("<td>x | y</td>\n<td>z</td>"))
    }

    @Test func pipesInsideFencedCodeAreNotATable() {
        let html = Markdown.html(from: "```\n| a | b |\n| --- | --- |\n```\n")
        #expect(html == "<pre><code>| a | b |\n| --- | --- |\n</code></pre>\n")
    }

    @Test func rawHTMLIsDroppedUnlessAllowed() {
        let source = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>\n\n<script>x()</script>\n"
        let safe = Markdown.html(from: source)
        #expect(!safe.contains("<svg") && !safe.contains("<script"))
        #expect(safe.contains("<!-- raw HTML omitted -->"))
        let raw = Markdown.html(from: source, options: .allowRawHTML)
        #expect(raw.contains("<svg xmlns=\"http://www.w3.org/2000/svg\"><rect/></svg>"))
    }

    /// Hostile values render as exactly their text (newlines shown as a symbol), in a
    /// paragraph and in a table cell, even with raw HTML allowed.
    @Test(arguments: [
        "<script>alert(1)</script>", "a | b | c", "`code` and ``more``", "Tom & Jerry &amp; co",
        "line one\nline two", "# not a heading", "- not a list", "1. not a list", "[link](javascript:x)",
        "*bold* _it_ ~~s~~", "back\\slash\\", "> quote", "<!-- c -->", "---", "snake_case_name.png",
        "  leading spaces", "tab\there", "1.5 KiB",
    ])
    func escapedValuesRenderLiterally(value: String) {
        let escaped = MarkdownEscaping.escape(value)
        let visible = value.replacingNewlines()
        let expected = visible.htmlEscaped()
        #expect(Markdown.html(from: escaped, options: .allowRawHTML) == "<p>\(expected)</p>\n")
        let table = Markdown.html(from: "| A | B |\n| --- | --- |\n| \(escaped) | end |\n", options: .allowRawHTML)
        #expect(table.contains("<td>\(expected)</td>\n<td>end</td>"))
        #expect(table.split(separator: "<tr>", omittingEmptySubsequences: false).count == 3)  // header + exactly one body row
    }

    @Test func ordinaryNamesStayReadable() {
        #expect(MarkdownEscaping.escape("holiday-photo_2024.png") == "holiday-photo_2024.png")
        #expect(MarkdownEscaping.escape("1.5 KiB") == "1.5 KiB")
        #expect(MarkdownEscaping.escape("a|b") == "a\\|b")
        #expect(MarkdownEscaping.escape("x\ny") == "x\u{21B5}y")
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        var out = ""
        for character in self {
            switch character {
            case "\n": out += "\u{21B5}"
            case "\t": out += " "
            default: out.append(character)
            }
        }
        // A paragraph's leading spaces are shown as one entity-space each by the escaper.
        return out
    }

    fileprivate func htmlEscaped() -> String {
        var out = ""
        for character in self {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }
}
