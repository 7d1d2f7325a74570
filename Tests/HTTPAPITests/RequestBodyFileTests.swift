import AssetDedupCore
import BlobStore
import Foundation
import HTTPAPI
import Logging
import Providers
import Testing

/// Upload bodies that nginx buffered to a file and names by path (`REQUEST_BODY_FILE`).
@Suite struct RequestBodyFileTests {
    @Test func anUploadIsReadFromTheBodyFileNginxWrote() throws {
        let h = try APIHarness()
        let file = (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let body = APIHarness.multipart(boundary: "b0", fields: [("provider_id", "pixverse")], file: file)
        let path = h.bodyDirectory + "/0000000001"
        try Data(body).write(to: URL(fileURLWithPath: path))
        let response = h.api.respond(
            to: HTTPRequest(
                method: "POST", path: "/api/v1/assets/upload",
                headers: ["authorization": "Bearer \(h.token)", "content-type": "multipart/form-data; boundary=b0"]),
            bodyFile: path)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
        #expect(response.status == 201)
        #expect(json["sha256"] as? String == hex(file))
        #expect(json["size"] as? Int == file.count)
    }

    /// nginx's body folder and serve's `--request-body-dir` differ (or serve cannot read it): a
    /// 503 that names the misconfiguration, not a 500, and nothing kept.
    @Test func aBodyFileOutsideTheFolderIsRefusedAndNothingIsKept() throws {
        let h = try APIHarness()
        let body = APIHarness.multipart(boundary: "b0", fields: [("provider_id", "pixverse")], file: [1, 2, 3])
        let outside = h.dir + "/elsewhere.body"
        try Data(body).write(to: URL(fileURLWithPath: outside))
        // A symlink inside the folder that points out of it is refused as well.
        let link = h.bodyDirectory + "/0000000002"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: outside)
        for path in [outside, link, h.bodyDirectory + "/../elsewhere.body", h.bodyDirectory + "/missing"] {
            let response = h.api.respond(
                to: HTTPRequest(
                    method: "POST", path: "/api/v1/assets/upload",
                    headers: ["authorization": "Bearer \(h.token)", "content-type": "multipart/form-data; boundary=b0"]),
                bodyFile: path)
            #expect(response.status == 503, "\(path)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
            let error = try #require(json["error"] as? [String: Any])
            #expect(error["code"] as? String == "request_body_unavailable", "\(path)")
        }
        #expect(try h.store.listAssets(user: UserID(1), after: nil, limit: 10).isEmpty)
    }

    @Test func serveWithNoBodyFolderAnswers503ForEveryUpload() throws {
        let h = try APIHarness()
        let body = APIHarness.multipart(boundary: "b0", fields: [("provider_id", "pixverse")], file: [4, 5, 6])
        let path = h.bodyDirectory + "/0000000005"
        try Data(body).write(to: URL(fileURLWithPath: path))
        // The folder serve was given did not exist when it started: no body file is accepted.
        let api = API(
            store: h.store, blobs: try BlobStore(dataDirectory: h.dir + "/data"),
            providers: .defaults(dataDirectory: h.dir + "/data"),
            bodyFiles: RequestBodyFiles(directory: h.dir + "/no-such-folder"), logger: Logger(label: "test"))
        let response = api.respond(
            to: HTTPRequest(
                method: "POST", path: "/api/v1/assets/upload",
                headers: ["authorization": "Bearer \(h.token)", "content-type": "multipart/form-data; boundary=b0"]),
            bodyFile: path)
        #expect(response.status == 503)
        #expect(String(decoding: response.body, as: UTF8.self).contains("\"request_body_unavailable\""))
        #expect(try h.store.listAssets(user: UserID(1), after: nil, limit: 10).isEmpty)
    }

    /// What serve checks at start to warn of a folder it cannot use.
    @Test func aFolderServeCannotUseIsNamedWithItsReason() throws {
        let h = try APIHarness()
        #expect(RequestBodyFiles.problem(directory: h.bodyDirectory) == nil)
        let missing = try #require(RequestBodyFiles.problem(directory: h.dir + "/no-such-folder"))
        #expect(missing.contains("No such file or directory"), "\(missing)")
        let file = h.dir + "/a-file"
        #expect(FileManager.default.createFile(atPath: file, contents: Data([1])))
        #expect(RequestBodyFiles.problem(directory: file) == "is not a folder")
        let under = try #require(RequestBodyFiles.problem(directory: file + "/sub"))
        #expect(under.contains("Not a directory"), "\(under)")
        if geteuid() != 0 {  // root reads any folder
            let locked = h.dir + "/locked"
            try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
            chmod(locked, 0o300)
            defer { chmod(locked, 0o700) }
            #expect(RequestBodyFiles.problem(directory: locked)?.hasPrefix("is not readable") == true)
        }
    }

    @Test func theSweepRemovesOnlyOldBodyFiles() throws {
        let h = try APIHarness()
        let old = h.bodyDirectory + "/0000000003"
        let fresh = h.bodyDirectory + "/0000000004"
        #expect(FileManager.default.createFile(atPath: old, contents: Data([1])))
        #expect(FileManager.default.createFile(atPath: fresh, contents: Data([2])))
        try FileManager.default.setAttributes(
            [.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: old)
        #expect(RequestBodyFiles(directory: h.bodyDirectory).sweep(olderThan: 3600) == 1)
        #expect(!FileManager.default.fileExists(atPath: old))
        #expect(FileManager.default.fileExists(atPath: fresh))
    }
}
