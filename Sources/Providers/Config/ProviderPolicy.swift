/// What a provider takes and what happens to its copy when the last asset holding it is purged.
public struct ProviderPolicy: Sendable, Equatable {
    public enum OnDelete: String, Sendable {
        /// The copy stays (the default: an AI service's asset may be in use there).
        case keep
        /// The copy is removed (directory and s3 adapters).
        case delete
    }

    /// Media type patterns (`image/*`, `video/mp4`); nil accepts anything.
    public var accept: [String]?
    public var onDelete: OnDelete = .keep

    public init(accept: [String]? = nil, onDelete: OnDelete = .keep) {
        self.accept = accept
        self.onDelete = onDelete
    }

    /// Whether content of `mimeType` (from its bytes) may go to this provider.
    public func accepts(_ mimeType: String?) -> Bool {
        guard let accept else { return true }
        let type = (mimeType ?? "application/octet-stream").lowercased()
        return accept.contains { pattern in
            pattern == "*/*" || pattern == type
                || (pattern.hasSuffix("/*") && type.hasPrefix(String(pattern.dropLast())))
        }
    }

    /// `type/subtype` or `type/*` in token characters.
    static func isPattern(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let token = { (part: Substring) in
            !part.isEmpty && part.allSatisfy { $0.isLetter || $0.isNumber || "!#$&^_.+-".contains($0) }
        }
        return parts.count == 2 && token(parts[0]) && (parts[1] == "*" || token(parts[1]))
    }
}
