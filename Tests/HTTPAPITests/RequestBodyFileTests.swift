import AssetDedupCore
import Foundation
import HTTPAPI
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
            #expect(response.status == 500, "\(path)")
        }
        #expect(try h.store.listAssets(user: UserID(1), after: nil, limit: 10).isEmpty)
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
