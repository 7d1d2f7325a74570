import Foundation

#if canImport(FoundationXML)
import FoundationXML
#endif

/// Parses a page as XML (the layout is XHTML-compatible) and counts its elements, so tests can
/// prove it is well-formed and holds the tables and charts it should.
final class XHTMLCheck: NSObject, XMLParserDelegate {
    private(set) var elements: [String: Int] = [:]
    private(set) var error: String?

    static func parse(_ html: String) -> XHTMLCheck {
        let check = XHTMLCheck()
        let parser = XMLParser(data: Data(html.utf8))
        parser.delegate = check
        if !parser.parse() {
            check.error = parser.parserError.map { "\($0) at line \(parser.lineNumber)" } ?? "parse failed"
        }
        return check
    }

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements[elementName, default: 0] += 1
    }
}
