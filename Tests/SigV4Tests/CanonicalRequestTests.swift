import Foundation
import Testing

@testable import SigV4

/// The encoding and date rules one at a time, where the published vectors do not reach.
@Suite struct CanonicalRequestTests {
    /// AWS's example for services other than S3: "/documents and settings/" is encoded twice.
    @Test func pathIsEncodedTwiceOnlyWhenAsked() {
        #expect(
            CanonicalRequest.encodedPath("/documents and settings/", times: 2) == "/documents%2520and%2520settings/")
        #expect(CanonicalRequest.encodedPath("/documents and settings/", times: 1) == "/documents%20and%20settings/")
        #expect(SigV4Signer.Options.s3.doubleEncodesPath == false)
        let iam = SigV4Signer(credentials: .init(accessKeyID: "a", secretAccessKey: "s"), region: "r", service: "iam")
        #expect(iam.options == .standard)
    }

    /// Keys keep `//` and dot segments; reserved characters, `+` and non-ASCII are encoded, `~` is not.
    @Test func s3KeysAreEncodedPerSegment() {
        #expect(CanonicalRequest.encodedPath("/b/a//../c d+e$f~g/é", times: 1) == "/b/a//../c%20d%2Be%24f~g/%C3%A9")
        #expect(CanonicalRequest.encodedPath("", times: 1) == "/")
    }

    @Test func queryIsEncodedThenSortedByNameThenValue() {
        let query = CanonicalRequest.canonicalQuery([
            .init("prefix", "a b/c"), .init("acl", nil), .init("b", "2"), .init("b", "1"), .init("B", "x=y&z"),
        ])
        #expect(query == "B=x%3Dy%26z&acl=&b=1&b=2&prefix=a%20b%2Fc")
    }

    @Test func headerValuesAreTrimmedAndJoined() {
        let headers = CanonicalRequest.canonicalHeaders([
            .init("X-B", "  two\t words  "), .init("x-a", "1"), .init("X-A", " 2 "),
        ])
        #expect(headers == [.init("x-a", "1,2"), .init("x-b", "two words")])
    }

    @Test func payloadHashes() {
        #expect(SigV4Request.Payload.sha256(of: [UInt8]()) == .empty)
        #expect(SigV4Request.Payload.unsigned.canonicalValue == "UNSIGNED-PAYLOAD")
    }

    @Test func amzDateIsUTCAndPadded() {
        let epoch = AMZDate(Date(timeIntervalSince1970: 0))
        #expect(epoch.timestamp == "19700101T000000Z")
        #expect(epoch.dateStamp == "19700101")
        // 2024-02-29T23:59:59.9Z: a leap day, and fractions are dropped rather than rounded up.
        let leap = AMZDate(Date(timeIntervalSince1970: 1_709_251_199.9))
        #expect(leap.timestamp == "20240229T235959Z")
        #expect(AMZDate(Date(timeIntervalSince1970: 4_102_444_800)).timestamp == "21000101T000000Z")
    }

    /// A caller's own `x-amz-date` or `Authorization` would be sent twice; the signer's copies win.
    @Test func signerOwnsItsHeaders() {
        let signer = SigV4Signer(
            credentials: .init(accessKeyID: "AK", secretAccessKey: "SK", sessionToken: "T"), region: "eu-west-1")
        let request = SigV4Request(
            method: "PUT", path: "/bucket/key",
            headers: [
                .init("Host", "s3.example.com"), .init("X-Amz-Date", "19990101T000000Z"),
                .init("Authorization", "stale"),
            ],
            payload: .unsigned)
        let signed = signer.sign(request, at: Date(timeIntervalSince1970: 0))
        #expect(
            signed.headers.map(\.name) == [
                "x-amz-date", "x-amz-content-sha256", "x-amz-security-token", "Authorization",
            ])
        #expect(signed.headers[0].value == "19700101T000000Z")
        #expect(signed.headers[1].value == "UNSIGNED-PAYLOAD")
        #expect(
            signed.details.canonicalRequest.split(separator: "\n").dropLast().last
                == "host;x-amz-content-sha256;x-amz-date;x-amz-security-token")
    }
}
