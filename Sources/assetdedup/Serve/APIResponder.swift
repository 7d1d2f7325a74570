import FastCGIServer
import Foundation
import HTTPAPI

/// Glue between the transport and the API: CGI params in, `Status:` + headers + body out.
final class APIResponder: FastCGIResponder {
    let api: API
    /// The response head, built in place for every request (one buffer per worker thread).
    private var head: [UInt8] = []

    init(api: API) {
        self.api = api
        head.reserveCapacity(512)
    }

    /// The request headers the API reads besides the three CGI ones, with their CGI param names.
    static let optionalHeaders: [(String, String)] = API.optionalRequestHeaders.map { name in
        (name, "HTTP_" + name.uppercased().replacingOccurrences(of: "-", with: "_"))
    }

    func respond(to request: FastCGIRequest) {
        let (path, query) = HTTPRequest.split(uri: request.param("REQUEST_URI") ?? "/")
        var headers: [String: String] = [:]
        headers["authorization"] = request.param("HTTP_AUTHORIZATION")
        headers["content-type"] = request.param("CONTENT_TYPE")
        headers["content-length"] = request.param("CONTENT_LENGTH").flatMap { $0.isEmpty ? nil : $0 }
        // Headers of the upload protocols, RFC 7240 `Prefer` and the like, when sent.
        for (name, param) in Self.optionalHeaders {
            if let value = request.param(param) { headers[name] = value }
        }
        let method = request.param("REQUEST_METHOD") ?? "GET"
        let bodyFile = request.param("REQUEST_BODY_FILE").flatMap { $0.isEmpty ? nil : $0 }
        let response = api.respond(
            to: HTTPRequest(
                method: method, path: path, query: query, headers: headers, body: FastCGIBody(request: request)),
            bodyFile: bodyFile)
        head.removeAll(keepingCapacity: true)
        head.append(contentsOf: "Status: \(response.status) \(response.reason)\r\n".utf8)
        for (name, value) in response.headers {
            head.append(contentsOf: name.utf8)
            head.append(contentsOf: ": ".utf8)
            head.append(contentsOf: value.utf8)
            head.append(contentsOf: "\r\n".utf8)
        }
        head.append(contentsOf: "Content-Length: \(response.body.count)\r\n".utf8)
        // Answers are not cached unless they say so (thumbnails: `private`, their content is fixed).
        if !response.headers.contains(where: { $0.0 == "Cache-Control" }) {
            head.append(contentsOf: "Cache-Control: no-store\r\n".utf8)
        }
        head.append(contentsOf: "\r\n".utf8)
        request.write(head)
        // A HEAD answer has the headers a GET would have and no body (resumable-upload offsets).
        if method != "HEAD" { request.write(response.body) }
    }
}

/// The request's FastCGI stdin as a `RequestBody`.
struct FastCGIBody: RequestBody {
    let request: FastCGIRequest

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try request.readBody(into: buffer)
    }
}
