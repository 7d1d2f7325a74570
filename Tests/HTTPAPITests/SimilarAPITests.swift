import AssetDedupCore
import SQLiteStore
import Foundation
import HTTPAPI
import PerceptualHash
import Synchronization
import PostgresTestSupport
import Testing

/// A fingerprinter that reads the hash from the file: `IMG <16 hex>` is an image, `VID <10 x 16
/// hex>` a video, anything else not decodable. Counts its calls.
final class TextFingerprinter: MediaFingerprinting {
    let calls = Atomic<Int>(0)

    func fingerprint(fileAt path: String) -> FingerprintOutcome {
        calls.add(1, ordering: .relaxed)
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            return .unavailable(reason: "unreadable")
        }
        let words = text.split(separator: " ")
        if words.first == "IMG", words.count == 2, let hash = try? PerceptualHash64(hex: words[1]) {
            return .fingerprint(.image(hash))
        }
        if words.first == "VID", words.count == 11 {
            let frames = words.dropFirst().compactMap { try? PerceptualHash64(hex: $0) }
            if frames.count == 10 { return .fingerprint(.video(frames: frames, durationSeconds: 4)) }
        }
        return .unavailable(reason: "not an image or video")
    }
}

@Suite struct SimilarAPITests {
    let original = "0123456789abcdef"
    /// `original` with 3 bits flipped.
    let nearCopy = "0123456789abcde8"
    let unrelated = "fedcba9876543210"

    func upload(_ h: APIHarness, _ text: String, name: String, token: String? = nil) -> (Int, [String: Any]) {
        let body = APIHarness.multipart(
            boundary: "B", fields: [("provider_id", "pixverse")], file: Array(text.utf8), filename: name)
        var headers = ["content-type": "multipart/form-data; boundary=B"]
        if let token { headers["authorization"] = "Bearer \(token)" }
        return h.send("POST", "/api/v1/assets/upload", headers: headers, body: body)
    }

    func similar(_ json: [String: Any]) -> [[String: Any]] { json["similar"] as? [[String: Any]] ?? [] }

    @Test func uploadAnswersCarryTheHashAndTheUsersSimilarAssets() throws {
        let fingerprinter = TextFingerprinter()
        let h = try APIHarness(fingerprinter: fingerprinter)
        let bob = try h.store.addUser(name: "bob")
        let bobToken = try h.store.issueToken(for: bob.id).secret
        // Bob's identical picture, uploaded first: never in Alice's answers.
        #expect(upload(h, "IMG \(original)", name: "bob.png", token: bobToken).0 == 201)

        let (status, first) = upload(h, "IMG \(original)", name: "a.png")
        #expect(status == 201)
        #expect(first["perceptual_hash"] as? [String: String] == ["kind": "image", "hash": original])
        #expect(similar(first).isEmpty)
        let firstID = try #require(first["asset_id"] as? Int)

        let (_, second) = upload(h, "IMG \(nearCopy) ", name: "b.jpg")
        let secondID = try #require(second["asset_id"] as? Int)
        #expect(similar(second).count == 1)
        #expect(similar(second).first?["asset_id"] as? Int == firstID)
        #expect(similar(second).first?["distance"] as? Int == 3)
        #expect(similar(second).first?["original_filename"] as? String == "a.png")

        let (_, far) = upload(h, "IMG \(unrelated)", name: "c.png")
        #expect(similar(far).isEmpty)

        let (got, view) = h.send("GET", "/api/v1/assets/\(firstID)")
        #expect(got == 200)
        #expect(similar(view).map { $0["asset_id"] as? Int } == [secondID])

        // An exact duplicate is not fingerprinted again.
        let calls = fingerprinter.calls.load(ordering: .relaxed)
        #expect(upload(h, "IMG \(original)", name: "again.png").0 == 200)
        #expect(fingerprinter.calls.load(ordering: .relaxed) == calls)
    }

    @Test(arguments: Backend.available) func resumableCompletionIsFingerprintedToo(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, fingerprinter: TextFingerprinter())
        let (_, first) = upload(h, "IMG \(original)", name: "a.png")
        let bytes = Array("IMG \(nearCopy)".utf8)
        let created = h.create(Array(bytes[0..<4]))
        let location = try #require(created.location)
        let done = h.patch(location, offset: 4, complete: true, Array(bytes[4...]))
        #expect(done.response.status == 201)
        #expect(done.json["perceptual_hash"] as? [String: String] == ["kind": "image", "hash": nearCopy])
        #expect(similar(done.json).map { $0["asset_id"] as? Int } == [first["asset_id"] as? Int])
    }

    @Test(arguments: Backend.available) func aFileThatDoesNotDecodeStillUploadsWithKindNone(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, fingerprinter: TextFingerprinter())
        let (status, json) = upload(h, "just some text", name: "notes.txt")
        #expect(status == 201)
        #expect(json["perceptual_hash"] as? [String: String] == ["kind": "none", "reason": "not an image or video"])
        #expect(similar(json).isEmpty)
    }

    @Test(arguments: Backend.available) func videosAreMatchedFrameByFrame(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, fingerprinter: TextFingerprinter())
        let frames = (0..<10).map { String(format: "%016llx", 0x1111_2222_3333_0000 &* UInt64($0 + 1)) }
        let (_, first) = upload(h, "VID " + frames.joined(separator: " "), name: "clip.mp4")
        let hash = try #require(first["perceptual_hash"] as? [String: Any])
        #expect(hash["kind"] as? String == "video" && hash["frames"] as? [String] == frames)
        #expect(hash["duration_seconds"] as? Double == 4)
        var edited = frames
        edited[9] = "ffffffffffffffff"
        let (_, second) = upload(h, "VID " + edited.joined(separator: " "), name: "clip-small.mp4")
        #expect(similar(second).first?["asset_id"] as? Int == first["asset_id"] as? Int)
        let (status, answer) = h.send(
            "POST", "/api/v1/assets/similar",
            json: #"{"frames":[\#(frames.map { "\"\($0)\"" }.joined(separator: ","))]}"#)
        #expect(status == 200)
        #expect(similar(answer).count == 2)
    }

    @Test(arguments: Backend.available) func searchByHashBeforeUpload(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, fingerprinter: TextFingerprinter())
        let (_, first) = upload(h, "IMG \(original)", name: "a.png")
        let (status, answer) = h.send("POST", "/api/v1/assets/similar", json: #"{"perceptual_hash":"\#(nearCopy)"}"#)
        #expect(status == 200)
        #expect(answer["threshold"] as? Int == 10)
        #expect(similar(answer).map { $0["asset_id"] as? Int } == [first["asset_id"] as? Int])
        let (_, strict) = h.send(
            "POST", "/api/v1/assets/similar", json: #"{"perceptual_hash":"\#(nearCopy)","max_distance":2.0}"#)
        #expect(similar(strict).isEmpty && strict["threshold"] as? Int == 2)
        let (_, none) = h.send("POST", "/api/v1/assets/similar", json: #"{"perceptual_hash":"\#(unrelated)"}"#)
        #expect(similar(none).isEmpty)
    }

    @Test(arguments: Backend.available) func badSearchesAreNamed(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend, fingerprinter: TextFingerprinter())
        let cases: [(String, String)] = [
            (#"{"perceptual_hash":"xyz"}"#, "invalid_perceptual_hash"),
            (#"{"perceptual_hash":"0123456789abcdeg"}"#, "invalid_perceptual_hash"),
            (#"{"frames":["0123456789abcdef"]}"#, "invalid_frames"),
            (#"{"frames":[1,2,3,4,5,6,7,8,9,10]}"#, "invalid_perceptual_hash"),
            (#"{}"#, "missing_field"),
            (#"{"perceptual_hash":"0123456789abcdef","frames":[]}"#, "invalid_field"),
            (#"{"perceptual_hash":"0123456789abcdef","max_distance":17}"#, "invalid_max_distance"),
            (#"{"perceptual_hash":"0123456789abcdef","max_distance":"ten"}"#, "invalid_max_distance"),
            (#"{"perceptual_hash":"0123456789abcdef","max_distance":null}"#, "invalid_field"),
            (#"{"perceptual_hash":"0123456789abcdef","max_distance":2.5}"#, "invalid_max_distance"),
            ("[1", "invalid_json"),
        ]
        for (json, code) in cases {
            let (status, body) = h.send("POST", "/api/v1/assets/similar", json: json)
            #expect(status == 400, "\(json)")
            #expect((body["error"] as? [String: Any])?["code"] as? String == code, "\(json)")
        }
        #expect(h.send("GET", "/api/v1/assets/similar").0 == 405)
        #expect(
            h.send("POST", "/api/v1/assets/similar", json: "{}", headers: ["authorization": "Bearer nope"]).0 == 401)
    }

    @Test(arguments: Backend.available) func withoutAFingerprinterTheHashIsNull(_ backend: Backend) throws {
        let h = try APIHarness(backend: backend)
        let (status, json) = upload(h, "IMG \(original)", name: "a.png")
        #expect(status == 201)
        #expect(json["perceptual_hash"] is NSNull)
        #expect(similar(json).isEmpty && json["similar"] != nil)
    }
}
