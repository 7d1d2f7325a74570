import Foundation
import Testing

@testable import SigV4

/// AWS's SigV4 test suite: each case checks the canonical request, the string to sign and the signature,
/// for header signing and for presigning, against the files in Vectors/ (see its README for the cases left out).
@Suite struct SigV4TestSuiteTests {
    static let cases = [
        "get-header-key-duplicate",
        "get-header-value-multiline",
        "get-header-value-order",
        "get-header-value-trim",
        "get-relative-relative-unnormalized",
        "get-relative-unnormalized",
        "get-slash-dot-slash-unnormalized",
        "get-slash-pointless-dot-unnormalized",
        "get-slash-unnormalized",
        "get-slashes-unnormalized",
        "get-space-normalized",
        "get-space-unnormalized",
        "get-unreserved",
        "get-utf8",
        "get-vanilla",
        "get-vanilla-empty-query-key",
        "get-vanilla-query",
        "get-vanilla-query-order-encoded",
        "get-vanilla-query-order-key-case",
        "get-vanilla-query-unreserved",
        "get-vanilla-utf8-query",
        "get-vanilla-with-session-token",
        "post-header-key-case",
        "post-header-key-sort",
        "post-header-value-case",
        "post-sts-header-before",
        "post-vanilla",
        "post-vanilla-empty-query-value",
        "post-vanilla-query",
        "post-x-www-form-urlencoded",
        "post-x-www-form-urlencoded-parameters",
    ]

    @Test(arguments: cases)
    func headerSigning(_ name: String) throws {
        let vector = try TestSuiteVector(name)
        let signed = vector.signer.sign(vector.request, at: try vector.date)
        #expect(signed.details.canonicalRequest == (try vector.expected("header-canonical-request.txt")))
        #expect(signed.details.stringToSign == (try vector.expected("header-string-to-sign.txt")))
        #expect(signed.details.signature == (try vector.expected("header-signature.txt")))
        #expect(signed.headers.last == .init("Authorization", try #require(try vector.expectedAuthorization())))
    }

    @Test(arguments: cases)
    func presigning(_ name: String) throws {
        let vector = try TestSuiteVector(name)
        let url = vector.signer.presign(
            vector.request, at: try vector.date, expires: vector.context.expirationInSeconds)
        #expect(url.details.canonicalRequest == (try vector.expected("query-canonical-request.txt")))
        #expect(url.details.stringToSign == (try vector.expected("query-string-to-sign.txt")))
        #expect(url.details.signature == (try vector.expected("query-signature.txt")))
        #expect(url.query.hasSuffix("&X-Amz-Signature=" + (try vector.expected("query-signature.txt"))))
    }

    @Test func everyKeptFolderIsListed() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: TestSuiteVector.folder.path)
            .filter { !$0.hasSuffix(".md") }
        #expect(folders.sorted() == Self.cases.sorted())
    }
}
