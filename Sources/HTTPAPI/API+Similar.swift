import AssetDedupCore
import BlobProtocols
import Foundation
import PerceptualHash
import StoreProtocols

/// `POST /assets/similar` body: `{"perceptual_hash": "<16 hex>"}` or `{"frames": [10 x hex]}`,
/// and `max_distance` (0...16, default 10).
struct SimilarRequest: JSONReadable {
    let fingerprint: MediaFingerprint
    let threshold: Int

    static let maxDistance = 16

    init(json: JSONValue) throws {
        let fields = try JSONFields(json)
        guard case .object(let members) = json else { throw JSONShapeError.wrongType(path: "") }
        // Present means present: a null here is refused (the document says string, array, integer).
        func member(_ name: String) throws -> JSONValue? {
            guard let value = members.last(where: { $0.0 == name })?.1 else { return nil }
            if value == .null { throw APIError.badRequest("invalid_field", "'\(name)' must not be null") }
            return value
        }
        let hash = try member("perceptual_hash").map { _ in try fields.string("perceptual_hash") }
        let frames = try member("frames").map { _ in try fields.array("frames") }
        switch (hash, frames) {
        case (let text?, nil):
            fingerprint = .image(try Self.hash(text, field: "perceptual_hash"))
        case (nil, let frames?):
            let count = VideoFrames.fractions.count
            guard frames.count == count else {
                throw APIError.badRequest(
                    "invalid_frames", "frames must be \(count) hashes (one per tenth of the video), got \(frames.count)"
                )
            }
            fingerprint = .video(
                frames: try frames.map { element in
                    guard case .string(let text) = element.value else {
                        throw APIError.badRequest(
                            "invalid_perceptual_hash", "\(element.path) must be a string of 16 hex digits")
                    }
                    return try Self.hash(text, field: element.path)
                }, durationSeconds: 0)
        case (nil, nil):
            throw APIError.badRequest("missing_field", "give 'perceptual_hash' (an image) or 'frames' (a video)")
        case (.some, .some):
            throw APIError.badRequest("invalid_field", "give 'perceptual_hash' or 'frames', not both")
        }
        let range = 0...Self.maxDistance
        switch try member("max_distance") {
        case nil: threshold = PerceptualHash64.defaultThreshold
        case .int(let n) where range.contains(Int(clamping: n)): threshold = Int(n)
        // 5.0 is an integer to JSON Schema.
        case .double(let d) where d.rounded() == d && Double(range.lowerBound)...Double(range.upperBound) ~= d:
            threshold = Int(d)
        default:
            throw APIError.badRequest(
                "invalid_max_distance", "max_distance must be an integer from 0 to \(Self.maxDistance)")
        }
    }

    private static func hash(_ text: String, field: String) throws -> PerceptualHash64 {
        do {
            return try PerceptualHash64(hex: text)
        } catch {
            throw APIError.badRequest("invalid_perceptual_hash", "\(field): \(error.message)")
        }
    }
}

extension API {
    /// How many similar assets an asset's answer lists.
    static let similarLimit = 20

    /// `POST /assets/similar`: the caller's assets that look like content not uploaded yet.
    func similar(_ request: HTTPRequest) throws -> HTTPResponse {
        try reading(request) {
            try decodeJSON(SimilarRequest.self, from: request)
        } _: { user, body in
            let found = try store.similarAssets(
                user: user.userID, to: body.fingerprint, threshold: body.threshold, limit: Self.similarLimit,
                excluding: nil)
            return .json(
                JSONObject(.object([("similar", Self.similarJSON(found)), ("threshold", .int(Int64(body.threshold)))])))
        }
    }

    /// Fingerprints a newly stored asset's blob unless the asset has a fingerprint (an exact
    /// duplicate keeps its own). Never fails the upload: a file that does not decode is saved as
    /// kind none with the reason; a blob or store failure is logged and left for
    /// `fingerprints backfill`. A declared video goes to the background worker (seconds of
    /// decoding must not hold a request thread), and the request waits for it at most
    /// `limits.fingerprintWaitSeconds`, not at all with `Prefer: respond-async`.
    func fingerprintIfMissing(
        _ asset: AssetID, sha256: SHA256Digest, mimeType: String?, stagedPath: String?, request: HTTPRequest
    ) {
        guard let fingerprinter else { return }
        do {
            guard try store.fingerprint(asset: asset) == nil else { return }
            if let backgroundFingerprints, mimeType?.hasPrefix("video/") == true {
                if backgroundFingerprints.enqueue(asset, sha256: sha256), !Self.prefersRespondAsync(request) {
                    _ = backgroundFingerprints.wait(
                        for: asset, until: Date().addingTimeInterval(limits.fingerprintWaitSeconds))
                }
                return
            }
            let outcome = try fingerprinter.fingerprint(blob: sha256, in: blobs, stagedPath: stagedPath)
            try store.saveFingerprint(outcome, asset: asset)
        } catch {
            logger.warning("fingerprint of asset \(asset) not computed (backfill will retry): \(error)")
        }
    }

    /// `perceptual_hash` and `similar` for one of the caller's assets.
    func nearDuplicateFields(_ asset: AssetID, user: UserID) throws -> NearDuplicateFields {
        let outcome = try store.fingerprint(asset: asset)
        var similar: [SimilarAsset] = []
        if case .fingerprint(let fingerprint) = outcome {
            similar = try store.similarAssets(
                user: user, to: fingerprint, threshold: PerceptualHash64.defaultThreshold, limit: Self.similarLimit,
                excluding: asset)
        }
        return NearDuplicateFields(perceptualHash: Self.perceptualHashJSON(outcome), similar: Self.similarJSON(similar))
    }

    static func perceptualHashJSON(_ outcome: FingerprintOutcome?) -> JSONValue {
        switch outcome {
        case nil: .null
        case .unavailable(let reason): .object([("kind", .string("none")), ("reason", .string(reason))])
        case .fingerprint(.image(let hash)): .object([("kind", .string("image")), ("hash", .string(hash.description))])
        case .fingerprint(.video(let frames, let seconds)):
            .object([
                ("kind", .string("video")), ("frames", .strings(frames.map(\.description))),
                ("duration_seconds", seconds.isFinite ? .double(seconds) : .null),
            ])
        }
    }

    static func similarJSON(_ found: [SimilarAsset]) -> JSONValue {
        .array(
            found.map {
                .object([
                    ("asset_id", .int($0.assetID.rawValue)), ("distance", .int(Int64($0.distance))),
                    ("original_filename", .string($0.originalFilename)),
                ])
            })
    }
}

/// A JSON answer built in place.
struct JSONObject: JSONRepresentable {
    let json: JSONValue
    init(_ json: JSONValue) { self.json = json }
}
