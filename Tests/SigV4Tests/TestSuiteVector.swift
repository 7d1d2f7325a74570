import Foundation
import SigV4
import Testing

/// One folder of AWS's SigV4 test suite (see Vectors/README.md), read into signer inputs and expected texts.
struct TestSuiteVector {
    struct Context: Decodable {
        struct Credentials: Decodable {
            let accessKeyId: String
            let secretAccessKey: String
            let token: String?
        }
        let credentials: Credentials
        let expirationInSeconds: Int
        let normalize: Bool
        let region: String
        let service: String
        let signBody: Bool
        let timestamp: String
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors")

    let name: String
    let context: Context
    let request: SigV4Request

    init(_ name: String) throws {
        self.name = name
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        context = try decoder.decode(Context.self, from: Data(contentsOf: Self.url(name, "context.json")))
        request = try Self.parse(String(decoding: Data(contentsOf: Self.url(name, "request.txt")), as: UTF8.self))
    }

    /// The test suite's signers: `service` in `us-east-1`. The suite's paths are given decoded and its
    /// canonical paths are encoded once, which is S3's rule, so double encoding stays off.
    var signer: SigV4Signer {
        SigV4Signer(
            credentials: .init(
                accessKeyID: context.credentials.accessKeyId,
                secretAccessKey: context.credentials.secretAccessKey,
                sessionToken: context.credentials.token),
            region: context.region, service: context.service,
            options: .init(doubleEncodesPath: false, signsContentSHA256Header: context.signBody))
    }

    var date: Date {
        get throws { try Date(context.timestamp, strategy: .iso8601) }
    }

    func expected(_ file: String) throws -> String {
        String(decoding: try Data(contentsOf: Self.url(name, file)), as: UTF8.self)
    }

    /// The `Authorization` value from `header-signed-request.txt`.
    func expectedAuthorization() throws -> String? {
        try expected("header-signed-request.txt").split(separator: "\n")
            .first { $0.hasPrefix("Authorization:") }
            .map { String($0.dropFirst("Authorization:".count)) }
    }

    private static func url(_ name: String, _ file: String) -> URL {
        folder.appendingPathComponent(name).appendingPathComponent(file)
    }

    /// `METHOD target HTTP/1.1`, `Name:value` lines (indented lines continue the previous value), a
    /// blank line, the body. Targets may hold raw spaces (`/example space/`), so the version is cut from the end.
    static func parse(_ text: String) throws -> SigV4Request {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = try #require(String(parts[0]).removingPercentEncoding)
        var query: [SigV4Request.QueryItem] = []
        if parts.count == 2 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    .map { String($0).removingPercentEncoding }
                query.append(.init(try #require(kv[0]), kv.count == 2 ? try #require(kv[1]) : nil))
            }
        }
        var headers: [SigV4Request.Header] = []
        while let line = lines.first, !line.isEmpty {
            lines.removeFirst()
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += "\n" + line
            } else {
                let colon = try #require(line.firstIndex(of: ":"))
                headers.append(.init(String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        let body = lines.dropFirst().joined(separator: "\n")
        return SigV4Request(
            method: method, path: path, queryItems: query, headers: headers, payload: .sha256(of: Array(body.utf8)))
    }
}
