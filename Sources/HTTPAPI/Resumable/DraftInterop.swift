/// Which resumable-upload draft a request speaks, by `Upload-Draft-Interop-Version`: the drafts
/// differ only in words, so the engine is one and this says how to read and answer.
///
/// Interop versions and drafts: 3 is -01, 4 is -02, 5 is -03, 6 is -04 and -05 (what URLSession
/// and tus-js-client's IETF modes send), 7 is -06 to -08, 8 is -09 to -11 (Immich's). No header
/// is the current text (-15), which our browser client speaks.
struct DraftInterop: Equatable {
    /// nil: no `Upload-Draft-Interop-Version` (the current draft).
    let version: Int?

    static let current = DraftInterop(version: nil)
    static let supported = 3...8

    init(version: Int?) { self.version = version }

    init(_ headers: [String: String]) throws(APIError) {
        guard let text = headers["upload-draft-interop-version"] else {
            self.init(version: nil)
            return
        }
        guard let value = StructuredField.nonNegativeInteger(text), Self.supported.contains(Int(value)) else {
            throw .badRequest(
                "unsupported_interop_version",
                "Upload-Draft-Interop-Version must be 3 to 8 (drafts -01 to -11), or absent for draft -15")
        }
        self.init(version: Int(value))
    }

    /// Draft -01 (interop 3) says `Upload-Incomplete: ?1` where later drafts say `Upload-Complete: ?0`.
    var saysIncomplete: Bool { version == 3 }

    /// Drafts before -04 (interop 3 to 5) put no type on an append's body.
    var requiresPartialUploadType: Bool { (version ?? 8) >= 6 }

    /// Drafts -01 to -05 (interop 3 to 6) answer an incomplete append with 201, later ones 204.
    var incompleteAppendStatus: Int { (version ?? 8) <= 6 ? 201 : 204 }

    /// Whether the request says the upload is complete; nil when it does not say and must. In
    /// the interop drafts an append that does not say completes the upload (as swift-nio-extras'
    /// NIOResumableUpload reads them), and so does draft -01's creation.
    func complete(_ headers: [String: String], creating: Bool) throws(APIError) -> Bool? {
        // Both are checked whatever the version: a malformed one is a 400, never ignored.
        let incomplete = try ResumableHeaders.boolean(headers, "upload-incomplete", name: "Upload-Incomplete")
        let complete = try ResumableHeaders.boolean(headers, "upload-complete", name: "Upload-Complete")
        let said = saysIncomplete ? incomplete.map { !$0 } : complete
        guard said == nil, version != nil, !creating || saysIncomplete else { return said }
        return true
    }

    /// The completeness header of an answer, in this draft's words.
    func completeness(_ complete: Bool) -> (String, String) {
        saysIncomplete ? ("Upload-Incomplete", complete ? "?0" : "?1") : ("Upload-Complete", complete ? "?1" : "?0")
    }

    /// Echoed on every answer to a request that named a version.
    var echo: [(String, String)] { version.map { [("Upload-Draft-Interop-Version", String($0))] } ?? [] }
}
