/// A line chart of a few series over dates (the history trend), drawn as inline SVG.
///
/// Each series is scaled to the chart's common maximum; the y axis shows 0 and that maximum,
/// labelled with the caller's formatter (counts or bytes).
struct LineChart {
    struct Series {
        var name: String
        var color: String
        var values: [Int64]
    }

    var title: String
    /// One label per point, oldest first (`2026-11-20`).
    var dates: [String]
    var series: [Series]
    var formatValue: (Int64) -> String
    var width = 720
    var height = 240

    func svg() -> String {
        let left = 90
        let right = 20
        let top = 46
        let bottom = 34
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let maximum = max(series.flatMap(\.values).max() ?? 0, 1)
        func x(_ index: Int) -> Int {
            dates.count <= 1 ? left + plotWidth / 2 : left + index * plotWidth / (dates.count - 1)
        }
        func y(_ value: Int64) -> Int { top + plotHeight - Int(Double(value) / Double(maximum) * Double(plotHeight)) }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 \(width) \(height)" \
            width="\(width)" height="\(height)" font-family="sans-serif" font-size="12">
            <title>\(XMLText.escape(title))</title>
            <text x="0" y="16" font-weight="bold" font-size="13">\(XMLText.escape(title))</text>
            <line x1="\(left)" y1="\(top)" x2="\(left)" y2="\(top + plotHeight)" stroke="#999"/>
            <line x1="\(left)" y1="\(top + plotHeight)" x2="\(left + plotWidth)" y2="\(top + plotHeight)" stroke="#999"/>
            <text x="\(left - 6)" y="\(top + 4)" text-anchor="end">\(XMLText.escape(formatValue(maximum)))</text>
            <text x="\(left - 6)" y="\(top + plotHeight + 4)" text-anchor="end">0</text>

            """
        var legendX = left
        for line in series {
            svg += """
                <rect x="\(legendX)" y="24" width="12" height="12" fill="\(line.color)"/>
                <text x="\(legendX + 16)" y="34">\(XMLText.escape(line.name))</text>

                """
            legendX += 24 + line.name.count * 7
        }
        for line in series where !line.values.isEmpty {
            let points = line.values.enumerated().map { "\(x($0.offset)),\(y($0.element))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            for (index, value) in line.values.enumerated() {
                svg += "<circle cx=\"\(x(index))\" cy=\"\(y(value))\" r=\"3\" fill=\"\(line.color)\"/>\n"
            }
        }
        if let first = dates.first {
            svg += "<text x=\"\(x(0))\" y=\"\(height - 10)\" text-anchor=\"middle\">\(XMLText.escape(first))</text>\n"
        }
        if dates.count > 1, let last = dates.last {
            svg += "<text x=\"\(x(dates.count - 1))\" y=\"\(height - 10)\" text-anchor=\"end\">\(XMLText.escape(last))</text>\n"
        }
        return svg + "</svg>"
    }
}
