import CCmark

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one call into libcmark: CommonMark text in, HTML out.
///
/// cmark_markdown_to_html returns a malloc'd buffer: "It is the caller's responsibility to free
/// the returned buffer." It is copied into a Swift string and freed before returning.
enum CommonMark {
    static func html(_ markdown: String, allowRawHTML: Bool) -> String {
        var options = CCMARK_OPT_VALIDATE_UTF8
        if allowRawHTML { options |= CCMARK_OPT_UNSAFE }
        var markdown = markdown
        return markdown.withUTF8 { bytes -> String in
            let raw = bytes.withMemoryRebound(to: CChar.self) { text in
                cmark_markdown_to_html(text.baseAddress, text.count, options)
            }
            guard let raw else { return "" }  // only on out-of-memory
            defer { free(raw) }
            return String(cString: raw)
        }
    }

    /// Renders one line of inline Markdown (a table cell) without the paragraph wrapper.
    static func inlineHTML(_ markdown: String, allowRawHTML: Bool) -> String {
        var html = html(markdown, allowRawHTML: allowRawHTML)
        if html.hasPrefix("<p>") && html.hasSuffix("</p>\n") {
            html = String(html.dropFirst(3).dropLast(5))
        } else if html.hasSuffix("\n") {
            html.removeLast()
        }
        return html
    }
}
