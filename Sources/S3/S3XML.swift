import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// S3's XML answers as a small element tree.
///
/// FoundationXML's `XMLParser` (libxml2, shipped with the toolchain) rather than a parser of our
/// own: entities, CDATA and character references are handled by a parser that has seen far worse
/// input than S3's, and S3 documents are small (a listing page is at most 1,000 entries), so
/// building a tree is cheap and lets each caller read fields by name.
struct S3XML: Sendable {
    var name: String
    var text: String
    var children: [S3XML]

    /// The text of the first child element called `name`.
    subscript(_ name: String) -> String? { child(name)?.text }

    func child(_ name: String) -> S3XML? { children.first { $0.name == name } }

    func all(_ name: String) -> [S3XML] { children.filter { $0.name == name } }

    /// The document's root element; throws on anything that is not well-formed XML.
    static func parse(_ bytes: [UInt8]) throws -> S3XML {
        let builder = TreeBuilder()
        let parser = XMLParser(data: Data(bytes))
        parser.delegate = builder
        guard parser.parse(), let root = builder.root else {
            throw ParseError(detail: parser.parserError.map { "\($0)" } ?? "no root element")
        }
        return root
    }

    struct ParseError: Error, CustomStringConvertible {
        var detail: String
        var description: String { "not S3 XML: \(detail)" }
    }

    /// Keeps a stack of open elements; namespaces are ignored (S3 uses one default namespace).
    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var stack: [S3XML] = []
        var root: S3XML?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName qName: String?, attributes attributeDict: [String: String] = [:]
        ) {
            stack.append(S3XML(name: elementName, text: "", children: []))
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            if !stack.isEmpty { stack[stack.count - 1].text += string }
        }

        func parser(_ parser: XMLParser, foundCDATA cdata: Data) {
            if !stack.isEmpty { stack[stack.count - 1].text += String(decoding: cdata, as: UTF8.self) }
        }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName qName: String?
        ) {
            guard let done = stack.popLast() else { return }
            if stack.isEmpty { root = done } else { stack[stack.count - 1].children.append(done) }
        }
    }
}

/// Escapes text for an XML element body (the CompleteMultipartUpload request).
func xmlEscaped(_ text: String) -> String {
    var out = ""
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(c)
        }
    }
    return out
}
