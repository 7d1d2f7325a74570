import AssetDedupCore
import Crypto
import Foundation
import PostgresTestSupport
import Testing

@testable import BlobStore
@testable import HTTPAPI

extension APIHarness {
    /// A tus request: `Tus-Resumable` and the token on top of `headers`.
    func tus(_ method: String, _ uri: String, _ headers: [String: String] = [:], body: [UInt8] = [])
        -> (response: HTTPResponse, json: [String: Any])
    {
        call(method, uri, headers: ["tus-resumable": "1.0.0"].merging(headers) { $1 }, body: body)
    }

    /// `POST /tus` with `Upload-Metadata` built from `metadata`.
    func tusCreate(
        length: Int?, metadata: [String: String] = ["provider_id": "pixverse", "filename": "clip.mp4"],
        extra: [String: String] = [:], body: [UInt8] = []
    ) -> (response: HTTPResponse, json: [String: Any], location: String?) {
        var headers = extra
        if headers["upload-metadata"] == nil { headers["upload-metadata"] = Self.tusMetadata(metadata) }
        if let length { headers["upload-length"] = String(length) } else { headers["upload-defer-length"] = "1" }
        if !body.isEmpty { headers["content-type"] = "application/offset+octet-stream" }
        let (response, json) = tus("POST", "/api/v1/tus", headers, body: body)
        return (response, json, response.header("Location"))
    }

    func tusPatch(_ location: String, offset: Int, _ bytes: [UInt8], extra: [String: String] = [:])
        -> (response: HTTPResponse, json: [String: Any])
    {
        tus(
            "PATCH", location,
            ["content-type": "application/offset+octet-stream", "upload-offset": String(offset)].merging(extra) { $1 },
            body: bytes)
    }

    static func tusMetadata(_ pairs: [String: String]) -> String {
        pairs.sorted { $0.key < $1.key }.map { "\($0.key) \(Data($0.value.utf8).base64EncodedString())" }
            .joined(separator: ",")
    }
}

@Suite struct TusUploadTests {
    @Test(arguments: Backend.available) func optionsNameTheVersionExtensionsAndLimits(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let (response, _) = h.call("OPTIONS", "/api/v1/tus", token: "")
        #expect(response.status == 204)
        #expect(response.header("Tus-Version") == "1.0.0")
        #expect(response.header("Tus-Resumable") == "1.0.0")
        let extensions = Set((response.header("Tus-Extension") ?? "").split(separator: ",").map(String.init))
        #expect(
            extensions == [
                "creation", "creation-with-upload", "creation-defer-length", "termination", "expiration", "checksum",
                "concatenation",
            ])
        #expect(response.header("Tus-Checksum-Algorithm") == "sha256,sha1,md5")
        #expect(response.header("Tus-Max-Size") == String(h.api.limits.maxUploadBytes))
    }

    @Test(arguments: Backend.available) func createAppendInChunksAndReadTheAssetBack(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let bytes = sample(5000)
        let created = h.tusCreate(length: bytes.count)
        #expect(created.response.status == 201)
        let location = try #require(created.location)
        #expect(location.hasPrefix("/api/v1/tus/"))
        #expect(created.response.header("Tus-Resumable") == "1.0.0")

        let head = h.tus("HEAD", location).response
        #expect(head.status == 200 && head.header("Upload-Offset") == "0" && head.header("Upload-Length") == "5000")
        #expect(
            head.header("Upload-Metadata")
                == APIHarness.tusMetadata(["provider_id": "pixverse", "filename": "clip.mp4"]))
        #expect(head.header("Upload-Expires")?.hasSuffix(" GMT") == true)
        #expect(h.tus("GET", location).response.status == 409)

        let first = h.tusPatch(location, offset: 0, Array(bytes[0..<2000]))
        #expect(first.response.status == 204 && first.response.header("Upload-Offset") == "2000")
        let wrong = h.tusPatch(location, offset: 1000, Array(bytes[1000..<2000]))
        #expect(wrong.response.status == 409)
        let last = h.tusPatch(location, offset: 2000, Array(bytes[2000...]))
        #expect(last.response.status == 201)
        #expect(last.json["status"] as? String == "created")
        #expect(last.json["sha256"] as? String == SHA256Digest(bytes: Array(SHA256.hash(data: bytes))).hex)
        #expect(last.response.header("Upload-Offset") == "5000")
        let assetID = try #require(last.json["asset_id"] as? Int)

        // The URL keeps answering: HEAD says complete, GET gives the asset.
        #expect(h.tus("HEAD", location).response.header("Upload-Offset") == "5000")
        let result = h.tus("GET", location)
        #expect(result.response.status == 200 && result.json["asset_id"] as? Int == assetID)
    }

    /// Appends are acknowledged from the page cache between fdatasyncs: after the machine
    /// restarted (the partial file's marker names another boot), the upload is rewound to what
    /// its file had synced, the PATCH at the old offset is 409 with the offset to resume from,
    /// and the upload finishes from there with the right digest.
    @Test func afterARestartOfTheMachineTheUploadResumesFromItsSyncedLength() throws {
        let h = try APIHarness()
        let bytes = sample(3000, seed: 5)
        let location = try #require(h.tusCreate(length: bytes.count).location)
        #expect(h.tusPatch(location, offset: 0, Array(bytes[0..<1000])).response.status == 204)
        let id = String(location.split(separator: "/").last!)
        let path = try #require(h.api.blobs as? BlobStore).partialPath(upload: id)
        // What a power loss leaves: the marker of an earlier boot, nothing synced, bytes gone.
        let fd = open(path, O_RDWR)
        #expect(fd >= 0 && PartialUploadFile.setMarker(fd, bootID: "an-earlier-boot", synced: 0))
        #expect(ftruncate(fd, 400) == 0)
        close(fd)
        #expect(h.tus("HEAD", location).response.header("Upload-Offset") == "1000")

        let refused = h.tusPatch(location, offset: 1000, Array(bytes[1000..<2000]))
        #expect(refused.response.status == 409)
        #expect(refused.response.header("Upload-Offset") == "0")
        #expect(h.tus("HEAD", location).response.header("Upload-Offset") == "0")
        let last = h.tusPatch(location, offset: 0, bytes)
        #expect(last.response.status == 201)
        #expect(last.json["sha256"] as? String == SHA256Digest(bytes: Array(SHA256.hash(data: bytes))).hex)
    }
    @Test(arguments: Backend.available) func checksumMismatchIs460AndKeepsNothingOfTheAppend(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let bytes = sample(3000, seed: 9)
        let location = try #require(h.tusCreate(length: bytes.count).location)
        func checksum(_ algorithm: String, _ data: [UInt8]) -> String {
            let digest: [UInt8] =
                switch algorithm {
                case "sha1": Array(Insecure.SHA1.hash(data: data))
                case "md5": Array(Insecure.MD5.hash(data: data))
                default: Array(SHA256.hash(data: data))
                }
            return "\(algorithm) \(Data(digest).base64EncodedString())"
        }
        let bad = h.tusPatch(
            location, offset: 0, Array(bytes[0..<1000]), extra: ["upload-checksum": checksum("sha256", sample(1000))])
        #expect(bad.response.status == 460)
        #expect(h.tus("HEAD", location).response.header("Upload-Offset") == "0")
        for (index, algorithm) in ["sha1", "md5", "sha256"].enumerated() {
            let part = Array(bytes[index * 1000..<(index + 1) * 1000])
            let ok = h.tusPatch(
                location, offset: index * 1000, part, extra: ["upload-checksum": checksum(algorithm, part)])
            #expect(ok.response.status < 300, "\(algorithm)")
        }
        #expect(h.tus("GET", location).response.status == 200)
        let unknown = h.tusPatch(location, offset: 0, [1], extra: ["upload-checksum": "crc32 AAAA"])
        #expect(unknown.response.status == 400)
    }

    @Test(arguments: Backend.available) func creationRefusesBadInputBeforeAnyBytes(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        #expect(h.tusCreate(length: 10, metadata: ["filename": "a"]).response.status == 400)
        let unknown = h.tusCreate(length: 10, metadata: ["provider_id": "nowhere"])
        #expect(
            unknown.response.status == 422
                && (unknown.json["error"] as? [String: Any])?["code"] as? String == "unknown_provider")
        #expect(h.tusCreate(length: 10, extra: ["upload-metadata": "provider_id !!!"]).response.status == 400)
        #expect(h.tusCreate(length: h.api.limits.maxUploadBytes.advanced(by: 1).asInt).response.status == 413)
        let noLength = h.tus(
            "POST", "/api/v1/tus", ["upload-metadata": APIHarness.tusMetadata(["provider_id": "pixverse"])])
        #expect(noLength.response.status == 400)
        let version = h.call("POST", "/api/v1/tus", headers: ["tus-resumable": "0.2.2", "upload-length": "1"])
        #expect(version.response.status == 412 && version.response.header("Tus-Version") == "1.0.0")
        #expect(try h.store.expiredUploadSessions(olderThanSeconds: -3600).isEmpty)
    }

    @Test(arguments: Backend.available) func creationWithUploadAndDeferredLength(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let bytes = sample(4000, seed: 3)
        let whole = h.tusCreate(length: bytes.count, body: bytes)
        #expect(whole.response.status == 201 && whole.json["status"] as? String == "created")
        #expect(whole.location != nil)

        let other = sample(4000, seed: 4)
        let deferred = h.tusCreate(length: nil, body: Array(other[0..<1500]))
        let location = try #require(deferred.location)
        #expect(deferred.response.status == 201 && deferred.response.header("Upload-Offset") == "1500")
        #expect(h.tus("HEAD", location).response.header("Upload-Defer-Length") == "1")
        let last = h.tusPatch(location, offset: 1500, Array(other[1500...]), extra: ["upload-length": "4000"])
        #expect(last.json["status"] as? String == "created")
    }

    @Test(arguments: Backend.available) func heldContentAnnouncedBySHA256NeedsNoBytes(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let bytes = sample(6000, seed: 5)
        let digest = SHA256Digest(bytes: Array(SHA256.hash(data: bytes))).hex
        #expect(h.tusCreate(length: bytes.count, body: bytes).json["status"] as? String == "created")
        let again = h.tusCreate(length: bytes.count, metadata: ["provider_id": "runway", "sha256": digest])
        #expect(again.response.status == 201)
        #expect(again.json["status"] as? String == "added_provider")
        #expect(again.response.header("Upload-Offset") == "6000")
        let location = try #require(again.location)
        #expect(h.tus("HEAD", location).response.header("Upload-Offset") == "6000")
        // A client that PATCHes from 0 anyway is told the upload is whole; nothing is appended.
        let patched = h.tusPatch(location, offset: 0, bytes)
        #expect(patched.response.status == 204 && patched.response.header("Upload-Offset") == "6000")
        #expect(h.tus("GET", location).json["sha256"] as? String == digest)
    }

    @Test(arguments: Backend.available) func partialUploadsJoinIntoOneAsset(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let bytes = sample(9000, seed: 7)
        var urls: [String] = []
        for range in [0..<4000, 4000..<9000] {
            let part = Array(bytes[range])
            let created = h.tusCreate(length: part.count, metadata: [:], extra: ["upload-concat": "partial"])
            #expect(created.response.status == 201)
            let location = try #require(created.location)
            #expect(h.tusPatch(location, offset: 0, part).response.status == 204)
            #expect(h.tus("HEAD", location).response.header("Upload-Concat") == "partial")
            urls.append(location)
        }
        let early = h.tusCreate(
            length: nil, metadata: ["provider_id": "pixverse"],
            extra: ["upload-concat": "final;\(urls[0]) /api/v1/tus/\(String(repeating: "a", count: 32))"])
        #expect(early.response.status == 400)
        let final = h.tus(
            "POST", "/api/v1/tus",
            [
                "upload-concat": "final;http://example.test\(urls[0]) \(urls[1])",
                "upload-metadata": APIHarness.tusMetadata(["provider_id": "pixverse", "filename": "joined.bin"]),
            ])
        #expect(final.response.status == 201)
        #expect(final.json["sha256"] as? String == SHA256Digest(bytes: Array(SHA256.hash(data: bytes))).hex)
        #expect(final.json["size"] as? Int == 9000)
        let location = try #require(final.response.header("Location"))
        #expect(h.tus("GET", location).response.status == 200)
        let head = h.tus("HEAD", location).response
        #expect(head.header("Upload-Concat")?.hasPrefix("final;") == true && head.header("Upload-Offset") == "9000")
        #expect(h.tusPatch(location, offset: 0, [1]).response.status == 403)
        // The parts stay until they expire, so the final can be sent again: the same asset.
        for url in urls { #expect(h.tus("HEAD", url).response.header("Upload-Offset") != nil) }
    }

    @Test(arguments: Backend.available) func otherUsersUploadsAreNotFoundAndTerminationRemoves(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let location = try #require(h.tusCreate(length: 100).location)
        let user = try h.store.addUser(name: "mallory", isAdmin: false)
        let other = try h.store.issueToken(for: user.id).secret
        for method in ["HEAD", "PATCH", "DELETE", "GET"] {
            let response = h.call(
                method, location,
                headers: [
                    "tus-resumable": "1.0.0", "content-type": "application/offset+octet-stream", "upload-offset": "0",
                ],
                token: other
            ).response
            #expect(response.status == 404, "\(method)")
        }
        // X-HTTP-Method-Override turns a POST into the DELETE it names.
        let deleted = h.tus("POST", location, ["x-http-method-override": "DELETE"])
        #expect(deleted.response.status == 204)
        #expect(h.tus("HEAD", location).response.status == 404)
    }
}

extension Int64 {
    fileprivate var asInt: Int { Int(self) }
}
