/// A GitHub-style pipe table: header row, delimiter row (`| --- | ---: |`), body rows.
///
/// Rows are split on unescaped `|` (a `\|` is a literal pipe in the cell, as in GFM); every cell
/// is rendered by cmark as inline Markdown, so escaping inside cells follows CommonMark.
struct PipeTable {
    enum Alignment { case none, left, center, right }

    let header: [String]
    let alignments: [Alignment]

    /// Recognises a table start; the delimiter row must have as many cells as the header.
    init?(header: Substring, delimiter: Substring) {
        guard Self.isRow(header), Self.isRow(delimiter) else { return nil }
        let heads = Self.cells(header)
        let delimiters = Self.cells(delimiter)
        guard heads.count == delimiters.count, !heads.isEmpty else { return nil }
        var alignments: [Alignment] = []
        for cell in delimiters {
            let left = cell.hasPrefix(":")
            let right = cell.hasSuffix(":")
            let dashes = cell.dropFirst(left ? 1 : 0).dropLast(right && cell.count > 1 ? 1 : 0)
            guard !dashes.isEmpty, dashes.allSatisfy({ $0 == "-" }) else { return nil }
            alignments.append(left && right ? .center : right ? .right : left ? .left : .none)
        }
        self.header = heads
        self.alignments = alignments
    }

    /// Rows start with a pipe; requiring it keeps ordinary prose with a `|` out of tables.
    static func isRow(_ line: Substring) -> Bool {
        line.trimmingLeadingSpaces().hasPrefix("|")
    }

    /// The trimmed cells of one row, with `\|` turned into `|`.
    static func cells(_ line: Substring) -> [String] {
        var text = Substring(line.trimmingLeadingSpaces().dropFirst())  // the leading pipe
        while text.last == " " { text.removeLast() }
        var cells: [String] = []
        var current = ""
        var iterator = text.makeIterator()
        var endedWithPipe = false
        while let character = iterator.next() {
            endedWithPipe = false
            if character == "\\" {
                guard let next = iterator.next() else {
                    current.append(character)
                    break
                }
                if next != "|" { current.append(character) }
                current.append(next)
            } else if character == "|" {
                cells.append(current.trimmingSpaces())
                current = ""
                endedWithPipe = true
            } else {
                current.append(character)
            }
        }
        if !endedWithPipe { cells.append(current.trimmingSpaces()) }
        return cells
    }

    func html(rows: [Substring], allowRawHTML: Bool) -> String {
        var html = "<table>\n<thead>\n<tr>\n"
        for (column, cell) in header.enumerated() {
            html += "<th\(attribute(column))>\(CommonMark.inlineHTML(cell, allowRawHTML: allowRawHTML))</th>\n"
        }
        html += "</tr>\n</thead>\n"
        if !rows.isEmpty { html += "<tbody>\n" }
        for row in rows {
            var cells = Self.cells(row)
            // GFM: extra cells are ignored, missing ones are empty.
            if cells.count > header.count { cells.removeLast(cells.count - header.count) }
            while cells.count < header.count { cells.append("") }
            html += "<tr>\n"
            for (column, cell) in cells.enumerated() {
                html += "<td\(attribute(column))>\(CommonMark.inlineHTML(cell, allowRawHTML: allowRawHTML))</td>\n"
            }
            html += "</tr>\n"
        }
        if !rows.isEmpty { html += "</tbody>\n" }
        return html + "</table>\n"
    }

    private func attribute(_ column: Int) -> String {
        switch alignments[column] {
        case .none: ""
        case .left: " align=\"left\""
        case .center: " align=\"center\""
        case .right: " align=\"right\""
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
