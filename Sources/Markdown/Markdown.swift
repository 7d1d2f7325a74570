/// CommonMark plus GitHub-style pipe tables to HTML, as a pure function.
///
/// libcmark implements plain CommonMark, which has no tables; reports are mostly tables. So
/// pipe-table blocks are cut out here and rendered by `PipeTable` (each cell through cmark's
/// inline rendering, so cells get exactly the same escaping rules), and everything else goes to
/// cmark unchanged. Fenced code blocks are left alone, even when they contain pipes.
public enum Markdown {
    /// Converts a Markdown document to an HTML fragment (XHTML-compatible: cmark closes void
    /// elements as `<br />`, and emits only the `&amp; &lt; &gt; &quot;` entities).
    public static func html(from markdown: String, options: MarkdownOptions = []) -> String {
        let allowRaw = options.contains(.allowRawHTML)
        var output = ""
        var pending: [Substring] = []
        func flush() {
            guard !pending.isEmpty else { return }
            output += CommonMark.html(pending.joined(separator: "\n") + "\n", allowRawHTML: allowRaw)
            pending.removeAll()
        }
        let lines = markdown.split(separator: "\n", omittingEmptySubsequences: false)
        var index = 0
        var fence: Substring?
        while index < lines.count {
            let line = lines[index]
            if let open = fence {
                pending.append(line)
                if line.trimmingLeadingSpaces().hasPrefix(open) { fence = nil }
                index += 1
                continue
            }
            if let marker = fenceMarker(line) {
                fence = marker
                pending.append(line)
                index += 1
                continue
            }
            if index + 1 < lines.count, let table = PipeTable(header: line, delimiter: lines[index + 1]) {
                var body = index + 2
                var rows: [Substring] = []
                while body < lines.count, PipeTable.isRow(lines[body]) {
                    rows.append(lines[body])
                    body += 1
                }
                flush()
                output += table.html(rows: rows, allowRawHTML: allowRaw)
                index = body
                continue
            }
            pending.append(line)
            index += 1
        }
        flush()
        return output
    }

    /// "```" or "~~~" (three or more) opening a fenced code block, indented at most 3 spaces.
    static func fenceMarker(_ line: Substring) -> Substring? {
        let trimmed = line.trimmingLeadingSpaces()
        guard line.count - trimmed.count <= 3, let first = trimmed.first, first == "`" || first == "~" else {
            return nil
        }
        let run = trimmed.prefix { $0 == first }
        return run.count >= 3 ? run : nil
    }
}

extension Substring {
    func trimmingLeadingSpaces() -> Substring { drop { $0 == " " } }
}
