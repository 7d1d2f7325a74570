/// The resumable-upload protocol's decisions as pure functions of the stored state and the
/// request's headers: no files, no database. The handlers do what these answer.
enum UploadRules {
    /// What an upload is, as far as the rules care.
    struct State: Equatable {
        var offset: Int64
        var length: Int64?
        var isComplete = false
        /// Whether the completion's answer was produced (false after a crash or provider failure).
        var isAnswered = false
    }

    /// What a request says about the bytes it carries.
    struct Request: Equatable {
        /// `Upload-Offset` (creation starts at 0).
        var offset: Int64 = 0
        var complete: Bool
        var length: Int64?
        /// `Content-Length`, when the body is not chunked.
        var bodyLength: Int64?
    }

    enum Decision: Equatable {
        /// Append; the upload's length (known or not) once this request's `Upload-Length` is taken.
        case append(length: Int64?)
        /// Complete already but never answered: run the completion again.
        case finishAgain
        /// The draft's completed-upload problem.
        case completed
        /// The draft's mismatching-offset problem; the server is at `expected`.
        case mismatchingOffset(expected: Int64)
        /// The draft's inconsistent-length problem.
        case inconsistentLength(String)
        /// Past `--max-upload-bytes`.
        case tooLarge
    }

    /// Creation: the upload starts empty with the request's `Upload-Length`, if any.
    static func create(_ request: Request, maxBytes: Int64) -> Decision {
        append(to: State(offset: 0, length: nil), request, maxBytes: maxBytes)
    }

    /// An append (`PATCH`) to `state`.
    static func append(to state: State, _ request: Request, maxBytes: Int64) -> Decision {
        if state.isComplete { return state.isAnswered ? .completed : .finishAgain }
        guard request.offset == state.offset else { return .mismatchingOffset(expected: state.offset) }
        var length = state.length
        if let declared = request.length {
            if let known = length, known != declared {
                return .inconsistentLength("Upload-Length \(declared) differs from the earlier \(known)")
            }
            if declared < state.offset {
                return .inconsistentLength("Upload-Length \(declared) is below the offset \(state.offset)")
            }
            if declared > maxBytes { return .tooLarge }
            length = declared
        }
        if let sent = request.bodyLength {
            let end = state.offset + sent
            if let length, end > length || (request.complete && end != length) {
                return .inconsistentLength(
                    "offset \(state.offset) plus \(sent) bytes does not fit Upload-Length \(length)")
            }
            if end > maxBytes { return .tooLarge }
        }
        return .append(length: length)
    }

    /// After the body: where it ended, and whether the request said it was the last.
    static func afterBody(end: Int64, length: Int64?, complete: Bool) -> Decision? {
        guard complete, let length, end != length else { return nil }
        return .inconsistentLength("the upload ends at \(end) bytes but Upload-Length is \(length)")
    }
}
