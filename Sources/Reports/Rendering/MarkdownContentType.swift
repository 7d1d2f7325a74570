import Markdown
import Mustache

/// Mustache's escaping for Markdown templates: `{{value}}` goes through `MarkdownEscaping`,
/// so a file name can never break a table or smuggle HTML; `{{{value}}}` stays raw (trusted SVG).
struct MarkdownContentType: MustacheContentType {
    /// The name templates select with `{{% CONTENT_TYPE: MARKDOWN }}`.
    static let name = "MARKDOWN"

    func escapeText(_ text: String) -> String { MarkdownEscaping.escape(text) }

    /// Registers the type once per process; Mustache looks it up while parsing a template.
    static let registered: Bool = {
        MustacheContentTypes.register(MarkdownContentType(), named: name)
        return true
    }()
}
