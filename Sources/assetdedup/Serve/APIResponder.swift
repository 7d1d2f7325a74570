import FastCGIServer
import HTTPAPI

/// Glue between the transport and the API: CGI params in, `Status:` + headers + body out.
final class APIResponder: FastCGIResponder {
    let api: API

    init(api: API) { self.api = api }

    func respond(to request: FastCGIRequest) {
        let (path, query) = HTTPRequest.split(uri: request.param("REQUEST_URI") ?? "/")
        var headers: [String: String] = [:]
        headers["authorization"] = request.param("HTTP_AUTHORIZATION")
        headers["content-type"] = request.param("CONTENT_TYPE")
        headers["content-length"] = request.param("CONTENT_LENGTH").flatMap { $0.isEmpty ? nil : $0 }
        let response = api.respond(
            to: HTTPRequest(
                method: request.param("REQUEST_METHOD") ?? "GET", path: path, query: query, headers: headers,
                body: FastCGIBody(request: request)))
        var head = "Status: \(response.status) \(response.reason)\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\nCache-Control: no-store\r\n\r\n"
        request.write(Array(head.utf8) + response.body)
    }
}

/// The request's FastCGI stdin as a `RequestBody`.
struct FastCGIBody: RequestBody {
    let request: FastCGIRequest

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        try request.readBody(into: buffer)
    }
}
