import AssetDedupCore
import Foundation

/// The resumable-upload request headers, parsed and checked; a malformed one is a 400 before
/// anything is written.
public struct ResumableHeaders: Equatable, Sendable {
    public var complete: Bool?
    public var offset: Int64?
    public var length: Int64?
    /// `sha-256` from `Repr-Digest`, the client's claim about the whole content.
    public var digest: SHA256Digest?

    public init(complete: Bool? = nil, offset: Int64? = nil, length: Int64? = nil, digest: SHA256Digest? = nil) {
        self.complete = complete
        self.offset = offset
        self.length = length
        self.digest = digest
    }

    /// The draft the request speaks (`Upload-Draft-Interop-Version`).
    var interop = DraftInterop.current

    /// `creating`: a creation, where draft -01's missing `Upload-Incomplete` means complete.
    public init(_ headers: [String: String], creating: Bool = false) throws(APIError) {
        interop = try DraftInterop(headers)
        complete = try interop.complete(headers, creating: creating)
        offset = try Self.integer(headers, "upload-offset", name: "Upload-Offset")
        length = try Self.integer(headers, "upload-length", name: "Upload-Length")
        if let text = headers["repr-digest"] {
            guard let members = StructuredField.byteSequences(text) else {
                throw .badRequest("invalid_header", "Repr-Digest must be a structured dictionary like sha-256=:BASE64:")
            }
            if let bytes = members["sha-256"] {
                guard bytes.count == 32 else {
                    throw .badRequest("invalid_header", "Repr-Digest sha-256 must be 32 bytes, got \(bytes.count)")
                }
                digest = SHA256Digest(bytes: bytes)
            }
        }
    }

    /// A structured-field boolean header (`?0` or `?1`), if sent.
    static func boolean(_ headers: [String: String], _ key: String, name: String) throws(APIError) -> Bool? {
        guard let text = headers[key] else { return nil }
        guard let value = StructuredField.boolean(text) else {
            throw .badRequest("invalid_header", "\(name) must be ?0 or ?1")
        }
        return value
    }

    /// A non-negative structured-field integer header, if sent.
    private static func integer(_ headers: [String: String], _ key: String, name: String) throws(APIError) -> Int64? {
        guard let text = headers[key] else { return nil }
        guard let value = StructuredField.nonNegativeInteger(text) else {
            throw .badRequest("invalid_header", "\(name) must be a non-negative integer")
        }
        return value
    }
}
