/// Which file a page is rendered for: the `.md` (mail, plain text) or the `.html` (browser).
///
/// Templates use it for the two things that differ: links point to the sibling pages of the
/// same format, and charts are inline SVG in HTML but image links to `charts/*.svg` in Markdown.
struct PageFormat: Sendable {
    /// `md` or `html`: the extension of linked pages.
    var ext: String
    var html: Bool

    static let markdown = PageFormat(ext: "md", html: false)
    static let htmlPage = PageFormat(ext: "html", html: true)
}

/// A chart as a page shows it: inline SVG for HTML, the same SVG as a file for Markdown.
struct ChartRef: Sendable {
    var title: String
    /// `charts/coverage-providers.svg`, relative to the page.
    var file: String
    var svg: String
}

/// A page of the report as the navigation and the index list it.
struct PageInfo: Sendable {
    var id: ReportPageID
    var title: String
    var summary: String
    /// `index`, `duplicates`…: the page's files (`.md`, `.html`) and template (`.md.mustache`).
    var name: String { id.rawValue }

    static let all = [
        PageInfo(id: .index, title: "Overview", summary: "totals, changes since the last run, trend"),
        PageInfo(
            id: .duplicates, title: "Duplicates",
            summary: "identical content held by several users, legacy merges, review state"),
        PageInfo(
            id: .nearDuplicates, title: "Near-duplicates",
            summary: "look-alike images and videos per user (perceptual hashes), thumbnails, review state"),
        PageInfo(
            id: .coverage, title: "Provider coverage",
            summary: "assets per provider, per user, provider combinations, under-covered assets"),
        PageInfo(
            id: .integrity, title: "Integrity",
            summary: "copies verified per location, missing and corrupt copies, repairs, content below minimum copies"),
        PageInfo(
            id: .migrations, title: "Migrations", summary: "schema migrations, index checks, backfill progress"),
    ]
}
