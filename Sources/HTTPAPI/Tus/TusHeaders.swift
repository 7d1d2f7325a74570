import AssetDedupCore
import Foundation

/// The tus 1.0.0 request headers, parsed and checked; a malformed one is a 400 before anything
/// is written.
struct TusHeaders {
    /// `Upload-Concat`: a partial upload, or a final one joining these upload ids in order.
    enum Concat: Equatable {
        case partial
        case final([String])
    }

    var offset: Int64?
    var length: Int64?
    /// `Upload-Defer-Length: 1`: the length comes with a later PATCH.
    var deferLength = false
    /// `Upload-Metadata` as sent (echoed by HEAD) and decoded.
    var rawMetadata: String?
    var metadata: [String: String] = [:]
    var concat: Concat?
    /// `Upload-Concat` as sent (a final upload's HEAD echoes it).
    var rawConcat: String?
    /// `Upload-Checksum`, ready to check the body it came with.
    var checksum: ChunkChecksum?

    init(_ headers: [String: String]) throws(APIError) {
        offset = try Self.integer(headers, "upload-offset", name: "Upload-Offset")
        length = try Self.integer(headers, "upload-length", name: "Upload-Length")
        if let text = headers["upload-defer-length"] {
            guard text.trimmingCharacters(in: .whitespaces) == "1" else {
                throw .badRequest("invalid_header", "Upload-Defer-Length must be 1")
            }
            deferLength = true
        }
        if let text = headers["upload-metadata"] {
            rawMetadata = text
            metadata = try Self.metadata(text)
        }
        if let text = headers["upload-concat"] {
            concat = try Self.concat(text)
            rawConcat = text.trimmingCharacters(in: .whitespaces)
        }
        if let text = headers["upload-checksum"] { checksum = try ChunkChecksum(header: text) }
    }

    /// `key base64,key2 base64,key3`: keys unique, values UTF-8 once decoded (a key alone is "").
    static func metadata(_ text: String) throws(APIError) -> [String: String] {
        var pairs: [String: String] = [:]
        for item in text.split(separator: ",") {
            let parts = item.trimmingCharacters(in: .whitespaces).split(separator: " ", omittingEmptySubsequences: true)
            guard let key = parts.first, parts.count <= 2, pairs[String(key)] == nil else {
                throw .badRequest(
                    "invalid_metadata",
                    "Upload-Metadata must be comma-separated 'key base64value' pairs with unique keys")
            }
            var value = ""
            if parts.count == 2 {
                guard let data = Data(base64Encoded: String(parts[1])), let text = String(data: data, encoding: .utf8)
                else {
                    throw .badRequest(
                        "invalid_metadata", "Upload-Metadata value of '\(key)' is not base64 of UTF-8 text")
                }
                value = text
            }
            pairs[String(key)] = value
        }
        return pairs
    }

    /// `partial`, or `final;URL URL ...` where each URL (absolute or a path) names an upload of
    /// this server's `/tus/` by its last segment.
    static func concat(_ text: String) throws(APIError) -> Concat {
        let value = text.trimmingCharacters(in: .whitespaces)
        if value == "partial" { return .partial }
        guard value.hasPrefix("final;") else {
            throw .badRequest("invalid_header", "Upload-Concat must be 'partial' or 'final;URL URL ...'")
        }
        let urls = value.dropFirst("final;".count).split(separator: " ").map(String.init)
        let ids = urls.compactMap { url -> String? in
            let path = url.split(separator: "?").first.map(String.init) ?? url
            guard path.contains("/tus/"), let id = path.split(separator: "/").last else { return nil }
            return String(id)
        }
        guard !urls.isEmpty, ids.count == urls.count else {
            throw .badRequest(
                "invalid_concat", "Upload-Concat final must list the partial uploads' URLs under /api/v1/tus/")
        }
        return .final(ids)
    }

    private static func integer(_ headers: [String: String], _ key: String, name: String) throws(APIError) -> Int64? {
        guard let text = headers[key] else { return nil }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, trimmed.utf8.allSatisfy({ (48...57).contains($0) }), let value = Int64(trimmed) else {
            throw .badRequest("invalid_header", "\(name) must be a non-negative integer")
        }
        return value
    }
}
