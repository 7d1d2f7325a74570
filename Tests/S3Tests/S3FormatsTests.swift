import Testing

@testable import S3

/// The pure parts: no server needed.
@Suite("S3 wire formats and configuration")
struct S3FormatsTests {
    @Test func datesParse() {
        #expect(S3Formats.iso8601("2026-12-02T16:36:45.000Z") == 1_796_229_405)
        #expect(S3Formats.iso8601("2026-12-02T16:36:45.250Z") == 1_796_229_405.25)
        #expect(S3Formats.iso8601("2026-12-02T16:36:45Z") == 1_796_229_405)
        #expect(S3Formats.httpDate("Wed, 02 Dec 2026 16:36:45 GMT") == 1_796_229_405)
        #expect(S3Formats.iso8601("yesterday") == nil)
        #expect(S3Formats.httpDate("Wed, 02 Foo 2026 16:36:45 GMT") == nil)
    }

    @Test func hostHeaderDropsDefaultPorts() {
        #expect(S3Client.hostHeader("http://127.0.0.1:9000") == "127.0.0.1:9000")
        #expect(S3Client.hostHeader("http://minio.local:80") == "minio.local")
        #expect(S3Client.hostHeader("https://s3.eu-west-1.amazonaws.com:443") == "s3.eu-west-1.amazonaws.com")
        #expect(S3Client.hostHeader("https://s3.example") == "s3.example")
    }

    @Test func copySourceKeepsSlashesAndEncodesTheRest() {
        #expect(S3Formats.encodedKeyPath("/b/dir/a key+ü.txt") == "/b/dir/a%20key%2B%C3%BC.txt")
    }

    @Test func etagsLoseTheirQuotes() {
        #expect(S3Formats.unquoted("\"abc-3\"") == "abc-3")
        #expect(S3Formats.unquoted(nil) == nil)
    }

    @Test func errorDocumentsBecomeErrors() {
        let body = Array(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Reduce your request rate &amp; retry.</Message></Error>"
                .utf8)
        let error = S3Error.answer(status: 503, body: body, what: "PutObject b/k")
        #expect(error.code == "SlowDown")
        #expect(error.message == "PutObject b/k: Reduce your request rate & retry.")
        #expect(error.isTransient)
        #expect(!S3Error.answer(status: 403, body: [], what: "x").isTransient)
        #expect(S3Error.answer(status: 429, body: [], what: "x").isTransient)
        #expect(S3Error.answer(status: 404, body: [], what: "x").message == "x: HTTP 404")
    }

    /// CompleteMultipartUpload may answer 200 and then fail in the body.
    @Test func aTwoHundredWithAnErrorBodyIsAFailure() {
        let body = Array(
            "  \n<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>".utf8)
        let response = S3Client.Response(status: 200, headers: [], body: body, bytesStreamed: 0)
        let error = #expect(throws: S3Error.self) { try response.checkNoErrorDocument("CompleteMultipartUpload b/k") }
        #expect(error?.code == "InternalError")
        #expect(error?.isTransient == true)
        let ok = S3Client.Response(
            status: 200, headers: [], body: Array("<CompleteMultipartUploadResult/>".utf8), bytesStreamed: 0)
        #expect(throws: Never.self) { try ok.checkNoErrorDocument("CompleteMultipartUpload b/k") }
    }

    @Test func fromEnvironmentNamesWhatIsMissing() throws {
        let full = [
            "ASSETDEDUP_S3_ENDPOINT": "http://127.0.0.1:9000", "AWS_ACCESS_KEY_ID": "AKIA",
            "AWS_SECRET_ACCESS_KEY": "s",
        ]
        let client = try S3Client.fromEnvironment(full)
        #expect(client.endpoint.region == "us-east-1")
        #expect(client.host == "127.0.0.1:9000")
        for name in full.keys {
            var env = full
            env[name] = nil
            let error = #expect(throws: S3Error.self) { _ = try S3Client.fromEnvironment(env) }
            #expect(error?.message.contains(name) == true)
            #expect(error?.code == "MissingEnvironment")
        }
        var withRegion = full
        withRegion["AWS_REGION"] = "eu-central-1"
        #expect(try S3Client.fromEnvironment(withRegion).endpoint.region == "eu-central-1")
    }

    @Test func credentialsNeverPrintTheSecret() {
        let credentials = S3Credentials(accessKeyID: "AKIAEXAMPLE", secretAccessKey: "s3cr3t", sessionToken: "t0k3n")
        for text in [
            "\(credentials)", String(reflecting: credentials),
            {
                var out = ""
                dump(credentials, to: &out)
                return out
            }(),
        ] {
            #expect(text.contains("AKIAEXAMPLE"))
            #expect(!text.contains("s3cr3t"))
            #expect(!text.contains("t0k3n"))
        }
    }

    @Test func partsCoverTheFile() {
        let plan = S3Client.PartPlan(path: "/x", size: 20 << 20 + 5, partSize: 8 << 20)
        #expect(plan.count == 3)
        #expect(plan.range(1) == (0, 8 << 20))
        #expect(plan.range(3) == (16 << 20, 4 << 20 + 5))
    }
}
