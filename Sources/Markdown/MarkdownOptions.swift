/// How much of the input cmark may pass through as HTML.
public struct MarkdownOptions: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// Lets raw HTML blocks and inline tags through (cmark's `CMARK_OPT_UNSAFE`).
    ///
    /// Only for text whose HTML parts the caller wrote itself (report templates with inline SVG
    /// charts); any value from outside must go through `MarkdownEscaping` first. Without this
    /// option cmark replaces raw HTML with a comment and drops `javascript:` style links.
    public static let allowRawHTML = MarkdownOptions(rawValue: 1 << 0)
}
