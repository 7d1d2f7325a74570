import Foundation
import PostgresTestSupport
import Testing

@testable import HTTPAPI

/// The IETF drafts' interop versions on `/api/v1/uploads`, in the request sequences of
/// swift-nio-extras' NIOResumableUpload tests (create incomplete, HEAD, append the rest) and the
/// draft texts' words for each version.
@Suite struct DraftInteropTests {
    /// Creation with "He", HEAD, then "llo" completing the upload, in `version`'s words.
    func chunkedUpload(version: Int, h: APIHarness) throws -> (
        create: HTTPResponse, head: HTTPResponse, last: (response: HTTPResponse, json: [String: Any])
    ) {
        let v = ["upload-draft-interop-version": String(version)]
        var createHeaders = v
        if version == 3 { createHeaders["upload-incomplete"] = "?1" } else { createHeaders["upload-complete"] = "?0" }
        if version >= 5 { createHeaders["upload-length"] = "5" }
        let created = h.call(
            "POST", "/api/v1/uploads?provider_id=pixverse&filename=hello.txt", headers: createHeaders,
            body: Array("He".utf8)
        ).response
        let location = try #require(created.header("Location"))
        let head = h.call("HEAD", location, headers: v).response
        var patchHeaders = v.merging(["upload-offset": "2"]) { $1 }
        if version >= 6 { patchHeaders["content-type"] = "application/partial-upload" }
        if version == 3 { patchHeaders["upload-incomplete"] = "?0" } else { patchHeaders["upload-complete"] = "?1" }
        let last = h.call("PATCH", location, headers: patchHeaders, body: Array("llo".utf8))
        return (created, head, last)
    }

    @Test(arguments: [3, 4, 5, 6, 7, 8]) func chunkedSequenceInEachVersion(version: Int) throws {
        let h = try APIHarness()
        let (created, head, last) = try chunkedUpload(version: version, h: h)
        let completeness = version == 3 ? "Upload-Incomplete" : "Upload-Complete"
        let other = version == 3 ? "Upload-Complete" : "Upload-Incomplete"
        #expect(created.status == 201)
        #expect(created.header(completeness) == (version == 3 ? "?1" : "?0"))
        #expect(created.header(other) == nil)
        #expect(created.header("Upload-Offset") == "2")
        #expect(created.header("Upload-Draft-Interop-Version") == String(version))
        #expect(head.status == 204 && head.header("Upload-Offset") == "2")
        #expect(head.header(completeness) == (version == 3 ? "?1" : "?0"))
        #expect(last.response.status == 201)
        #expect(last.json["status"] as? String == "created" && last.json["size"] as? Int == 5)
        #expect(last.response.header(completeness) == (version == 3 ? "?0" : "?1"))
        #expect(last.response.header("Upload-Offset") == "5")
    }

    /// Drafts -01 to -05 (interop 3 to 6) answer an incomplete append with 201, later ones 204.
    @Test(arguments: [(3, 201), (5, 201), (6, 201), (7, 204), (8, 204), (nil, 204)] as [(Int?, Int)])
    func incompleteAppendStatus(version: Int?, status: Int) throws {
        let h = try APIHarness()
        var headers = version.map { ["upload-draft-interop-version": String($0)] } ?? [:]
        headers[version == 3 ? "upload-incomplete" : "upload-complete"] = version == 3 ? "?1" : "?0"
        let created = h.call("POST", "/api/v1/uploads?provider_id=pixverse", headers: headers, body: [1, 2]).response
        let location = try #require(created.header("Location"))
        headers["upload-offset"] = "2"
        headers["content-type"] = "application/partial-upload"
        #expect(h.call("PATCH", location, headers: headers, body: [3]).response.status == status)
    }

    @Test(arguments: Backend.available) func olderDraftsTakeAnyBodyTypeAndAnAppendThatDoesNotSayCompletes(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let created = h.call(
            "POST", "/api/v1/uploads?provider_id=pixverse",
            headers: ["upload-draft-interop-version": "5", "upload-complete": "?0"], body: [1, 2]
        ).response
        let location = try #require(created.header("Location"))
        // Draft -03 names no type for an append; nor does it need Upload-Complete to finish.
        let last = h.call(
            "PATCH", location,
            headers: [
                "upload-draft-interop-version": "5", "upload-offset": "2", "content-type": "application/octet-stream",
            ],
            body: [3])
        #expect(last.response.status == 201 && last.json["status"] as? String == "created")
        // From -04 on the type is required.
        let v6 = h.call(
            "POST", "/api/v1/uploads?provider_id=pixverse",
            headers: ["upload-draft-interop-version": "6", "upload-complete": "?0"], body: [9]
        ).response
        let v6Location = try #require(v6.header("Location"))
        let wrongType = h.call(
            "PATCH", v6Location,
            headers: ["upload-draft-interop-version": "6", "upload-offset": "1", "content-type": "text/plain"],
            body: [8])
        #expect(wrongType.response.status == 415)
    }

    @Test(arguments: Backend.available) func draftOneCreationWithoutIncompleteIsTheWholeUpload(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let (response, json) = h.call(
            "POST", "/api/v1/uploads?provider_id=pixverse", headers: ["upload-draft-interop-version": "3"],
            body: Array("Hello".utf8))
        #expect(response.status == 201 && json["status"] as? String == "created")
        #expect(response.header("Upload-Incomplete") == "?0" && response.header("Location") != nil)
    }

    @Test(arguments: Backend.available) func unknownVersionsAreRefused(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        for version in ["2", "9", "x"] {
            let (response, json) = h.call(
                "POST", "/api/v1/uploads?provider_id=pixverse",
                headers: ["upload-draft-interop-version": version, "upload-complete": "?1"], body: [1])
            #expect(response.status == 400)
            #expect((json["error"] as? [String: Any])?["code"] as? String == "unsupported_interop_version")
        }
    }

    /// An upload begun in one version can be resumed in another (NIO's tests HEAD with 3).
    @Test(arguments: Backend.available) func aHeadInAnotherVersionSeesTheSameUpload(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let created = h.call(
            "POST", "/api/v1/uploads?provider_id=pixverse",
            headers: ["upload-draft-interop-version": "6", "upload-complete": "?0", "upload-length": "3"], body: [1]
        )
        .response
        let location = try #require(created.header("Location"))
        let head = h.call("HEAD", location, headers: ["upload-draft-interop-version": "3"]).response
        #expect(head.header("Upload-Offset") == "1" && head.header("Upload-Incomplete") == "?1")
    }
}
