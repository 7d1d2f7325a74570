import Crypto
import Foundation

/// tus's checksum extension: the digest a client sent for one request's body, checked while
/// the body streams through the upload engine. A mismatch discards the append (460).
struct ChunkChecksum {
    enum Algorithm: String, CaseIterable {
        case sha256, sha1, md5
    }

    private enum Hasher {
        case sha256(SHA256)
        case sha1(Insecure.SHA1)
        case md5(Insecure.MD5)
    }

    let algorithm: Algorithm
    let expected: [UInt8]
    private var hasher: Hasher

    /// `Upload-Checksum: <algorithm> <base64 digest>`.
    init(header: String) throws(APIError) {
        let parts = header.trimmingCharacters(in: .whitespaces).split(separator: " ")
        guard parts.count == 2, let algorithm = Algorithm(rawValue: parts[0].lowercased()) else {
            throw .badRequest(
                "invalid_checksum",
                "Upload-Checksum must be '<algorithm> <base64>' with one of \(Self.supported)")
        }
        guard let digest = Data(base64Encoded: String(parts[1])) else {
            throw .badRequest("invalid_checksum", "Upload-Checksum's digest is not base64")
        }
        self.algorithm = algorithm
        self.expected = Array(digest)
        switch algorithm {
        case .sha256: hasher = .sha256(SHA256())
        case .sha1: hasher = .sha1(Insecure.SHA1())
        case .md5: hasher = .md5(Insecure.MD5())
        }
    }

    /// `Tus-Checksum-Algorithm`.
    static let supported = Algorithm.allCases.map(\.rawValue).joined(separator: ",")

    mutating func update(_ chunk: UnsafeRawBufferPointer) {
        switch hasher {
        case .sha256(var h):
            h.update(bufferPointer: chunk)
            hasher = .sha256(h)
        case .sha1(var h):
            h.update(bufferPointer: chunk)
            hasher = .sha1(h)
        case .md5(var h):
            h.update(bufferPointer: chunk)
            hasher = .md5(h)
        }
    }

    func matches() -> Bool {
        let digest: [UInt8]
        switch hasher {
        case .sha256(let h): digest = Array(h.finalize())
        case .sha1(let h): digest = Array(h.finalize())
        case .md5(let h): digest = Array(h.finalize())
        }
        return digest == expected
    }
}

extension APIError {
    /// tus 460: the body does not hash to its `Upload-Checksum`; the append was discarded.
    static func checksumMismatch(_ algorithm: ChunkChecksum.Algorithm) -> APIError {
        APIError(
            status: 460, code: "checksum_mismatch",
            message: "the body does not match its Upload-Checksum (\(algorithm.rawValue)); nothing of it was kept",
            retryable: true)
    }

    /// A checksummed body that broke off: a part cannot be checked, so none of it is kept.
    static let checksumUnchecked = APIError(
        status: 400, code: "incomplete_body",
        message: "the body ended early and its Upload-Checksum covers the whole of it; nothing of it was kept",
        retryable: true)
}
