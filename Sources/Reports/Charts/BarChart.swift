/// A horizontal bar chart drawn as inline SVG, so reports need no script and no external file.
///
/// The SVG is one block without blank lines (CommonMark ends a raw HTML block at a blank
/// line), valid XML, and sized by `viewBox` so it scales with the page and prints cleanly.
struct BarChart {
    struct Bar {
        var label: String
        var value: Int64
        /// What is written at the end of the bar, e.g. `1,204 (31.2%)`.
        var valueLabel: String
    }

    var title: String
    var bars: [Bar]
    var width = 720
    var labelWidth = 170
    var barHeight = 22
    var color = "#3b6ea8"

    func svg() -> String {
        let gap = 6
        let top = 30
        let height = top + max(bars.count, 1) * (barHeight + gap) + 8
        let plotWidth = width - labelWidth - 150
        let maximum = max(bars.map(\.value).max() ?? 0, 1)
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 \(width) \(height)" \
            width="\(width)" height="\(height)" font-family="sans-serif" font-size="13">
            <title>\(XMLText.escape(title))</title>
            <text x="0" y="18" font-weight="bold">\(XMLText.escape(title))</text>

            """
        if bars.isEmpty {
            svg += "<text x=\"0\" y=\"\(top + 16)\" fill=\"#666\">no data</text>\n"
        }
        for (index, bar) in bars.enumerated() {
            let y = top + index * (barHeight + gap)
            let length = bar.value > 0 ? max(Int(Double(bar.value) / Double(maximum) * Double(plotWidth)), 1) : 0
            let textY = y + barHeight / 2 + 5
            svg += """
                <text x="\(labelWidth - 8)" y="\(textY)" text-anchor="end">\(XMLText.escape(bar.label))</text>
                <rect x="\(labelWidth)" y="\(y)" width="\(length)" height="\(barHeight)" fill="\(color)"/>
                <text x="\(labelWidth + length + 6)" y="\(textY)" fill="#333">\(XMLText.escape(bar.valueLabel))</text>

                """
        }
        return svg + "</svg>"
    }
}
