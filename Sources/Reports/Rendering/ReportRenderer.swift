import Foundation
import Markdown
import Mustache

/// Turns page models into Markdown (Mustache templates) and HTML (cmark inside one layout).
///
/// Templates are read at run time from a folder (`templates/reports` by default) so that
/// operators can adjust wording without a rebuild. Rendering itself is pure.
public struct ReportRenderer: Sendable {
    /// A template file is missing or does not parse.
    public struct TemplateError: Error, CustomStringConvertible {
        public let description: String
    }

    let library: MustacheLibrary

    /// Loads `reports/layout.html.mustache` and the `reports/*.md.mustache` pages from the
    /// project's templates folder.
    public init(templatesDirectory templates: String) throws {
        let directory = templates + "/reports"
        _ = MarkdownContentType.registered
        var library = MustacheLibrary()
        let names = ["layout.html"] + PageInfo.all.map { "\($0.name).md" }
        for name in names {
            let path = "\(directory)/\(name).mustache"
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TemplateError(
                    description: "template \(path) not found (--templates must name the folder that holds reports/)")
            }
            do {
                try library.register(String(decoding: data, as: UTF8.self), named: name)
            } catch {
                throw TemplateError(description: "template \(path) does not parse: \(error)")
            }
        }
        self.library = library
    }

    /// Renders a page model with its `.md` template.
    func markdown(_ page: ReportPage) -> String {
        let template = "\(page.id.rawValue).md"
        return switch page {
        case .index(let model): library.render(model, withTemplate: template) ?? ""
        case .duplicates(let model): library.render(model, withTemplate: template) ?? ""
        case .nearDuplicates(let model): library.render(model, withTemplate: template) ?? ""
        case .coverage(let model): library.render(model, withTemplate: template) ?? ""
        case .integrity(let model): library.render(model, withTemplate: template) ?? ""
        case .migrations(let model): library.render(model, withTemplate: template) ?? ""
        }
    }

    /// Wraps the HTML of a page's Markdown in the shared layout.
    ///
    /// Raw HTML is allowed because the only raw HTML in a page is the SVG the report draws;
    /// every value from the database reached the Markdown through `MarkdownEscaping` (the
    /// thumbnails' data URIs are base64 the report made, not text from the database).
    func html(page id: ReportPageID, markdown: String, generatedAt: String) -> String {
        let body = Markdown.html(from: markdown, options: .allowRawHTML)
        let info = PageInfo.all.first { $0.id == id }
        let layout = Layout(
            title: info?.title ?? id.rawValue, generatedAt: generatedAt, body: body,
            nav: PageInfo.all.map { Layout.NavItem(title: $0.title, file: "\($0.name).html", current: $0.id == id) },
            markdownFile: "\(id.rawValue).md")
        return library.render(layout, withTemplate: "layout.html") ?? ""
    }

    /// What the layout template sees.
    struct Layout {
        struct NavItem {
            var title: String
            var file: String
            var current: Bool
        }

        var title: String
        var generatedAt: String
        var body: String
        var nav: [NavItem]
        var markdownFile: String
    }
}
