import Foundation

/// What one HTTP attempt came to, and what to do about it: the retry rules as a pure function,
/// tested without a socket.
enum AttemptResult: Equatable {
    /// The server answered (any status).
    case answered(status: Int, body: [UInt8], retryAfter: Double?)
    /// No usable answer: could not connect, timed out, connection dropped, local read error.
    case transportFailed(message: String, transient: Bool)

    enum Verdict: Equatable {
        case success(providerAssetID: String)
        /// Try again after the policy's delay (with the server's `Retry-After`, if any).
        case retry(reason: String, status: Int?, retryAfter: Double?)
        /// Stop now; `retryable` says whether a later sync may still succeed.
        case fail(reason: String, status: Int?, retryable: Bool)
    }

    /// 2xx with an id is success; 5xx, 429, 408 and transport trouble are retried; any other
    /// answer stops at once. A 2xx without a readable id stops too, and is not retryable: the
    /// provider probably has the bytes, and sending them again would make a second copy.
    func verdict(idPath: JSONKeyPath) -> Verdict {
        switch self {
        case .transportFailed(let message, let transient):
            return transient
                ? .retry(reason: message, status: nil, retryAfter: nil)
                : .fail(reason: message, status: nil, retryable: false)
        case .answered(let status, let body, let retryAfter):
            let excerpt = Self.excerpt(body)
            switch status {
            case 200...299:
                if let id = idPath.string(in: .init(body)) { return .success(providerAssetID: id) }
                return .fail(
                    reason: "HTTP \(status) but no id at '\(idPath)' in the answer: \(excerpt)", status: status,
                    retryable: false)
            case 408, 429, 500...599:
                return .retry(reason: "HTTP \(status): \(excerpt)", status: status, retryAfter: retryAfter)
            default:
                return .fail(reason: "HTTP \(status): \(excerpt)", status: status, retryable: false)
            }
        }
    }

    /// The start of an answer body on one line, for error messages.
    static func excerpt(_ body: [UInt8], limit: Int = 200) -> String {
        let text = String(decoding: body.prefix(limit), as: UTF8.self)
            .map { $0.isNewline || $0 == "\t" ? " " : $0 }
        let line = String(text).trimmingCharacters(in: .whitespaces)
        if line.isEmpty { return "(empty answer)" }
        return body.count > limit ? line + "..." : line
    }
}
