import Foundation
import PerceptualHash
import Testing

/// The shared test vectors of the server's hash and the browser's (`www/app/phash.js`): colour
/// images generated here, their raw RGB bytes and their hashes, in `Vectors/phash-vectors.json`.
/// This suite proves the file is what the Swift code computes today; the browser test
/// (`Tests/integration/test_browser_phash.py`) runs phash.js in Chromium on the same bytes and
/// must print the same 16 hex digits. `PHASH_WRITE_VECTORS=1 swift test --filter
/// BrowserVectorTests` rewrites the file (after a deliberate change of the hash).
@Suite struct BrowserVectorTests {
    struct Vector: Codable, Equatable {
        var name: String
        var width: Int
        var height: Int
        /// Row-major RGB, 3 bytes a pixel, base64.
        var rgbBase64: String
        var phash: String

        enum CodingKeys: String, CodingKey {
            case name, width, height, phash
            case rgbBase64 = "rgb_base64"
        }
    }

    struct File: Codable, Equatable {
        var description: String
        var vectors: [Vector]
    }

    static let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Vectors/phash-vectors.json")

    /// Sizes chosen to exercise the area average: whole ratios (96x64, 128x96), fractional ones
    /// (100x75, 45x37, 257x31), and upsampling along one axis (24 wide, 13 high).
    static func images() -> [(name: String, width: Int, height: Int, rgb: [UInt8])] {
        typealias Make = (Int, Int) -> SyntheticImage
        let specs: [(Int, Int, Make, Make, Make)] = [
            (
                96, 64, { .texture(seed: 1, width: $0, height: $1) }, { .blobs(seed: 2, width: $0, height: $1) },
                { .gradient(angle: 30, centre: (0.3, 0.6), width: $0, height: $1) }
            ),
            (
                100, 75, { .blobs(seed: 3, width: $0, height: $1) }, { .texture(seed: 4, width: $0, height: $1) },
                { .blobs(seed: 5, width: $0, height: $1) }
            ),
            (
                45, 37, { .texture(seed: 6, width: $0, height: $1) },
                { .gradient(angle: 120, centre: (0.7, 0.2), width: $0, height: $1) },
                { .texture(seed: 7, width: $0, height: $1) }
            ),
            (
                24, 40, { .blobs(seed: 8, width: $0, height: $1) }, { .blobs(seed: 9, width: $0, height: $1) },
                { .texture(seed: 10, width: $0, height: $1) }
            ),
            (
                200, 13, { .texture(seed: 11, width: $0, height: $1) }, { .texture(seed: 12, width: $0, height: $1) },
                { .gradient(angle: 200, centre: (0.5, 0.5), width: $0, height: $1) }
            ),
            (
                128, 96, { .texture(seed: 13, width: $0, height: $1) }, { .texture(seed: 13, width: $0, height: $1) },
                { .texture(seed: 13, width: $0, height: $1) }
            ),
            (
                257, 31, { .blobs(seed: 14, width: $0, height: $1) }, { .texture(seed: 15, width: $0, height: $1) },
                { .texture(seed: 16, width: $0, height: $1) }
            ),
        ]
        return specs.map { width, height, red, green, blue in
            let channels = [red(width, height), green(width, height), blue(width, height)]
            let planes = channels.map(\.bytes)
            var rgb: [UInt8] = []
            rgb.reserveCapacity(width * height * 3)
            for i in 0..<(width * height) {
                rgb.append(planes[0][i])
                rgb.append(planes[1][i])
                rgb.append(planes[2][i])
            }
            let name = channels.map(\.name).joined(separator: " / ") + " \(width)x\(height)"
            return (name, width, height, rgb)
        }
    }

    static func computed() throws -> File {
        let vectors = try images().map { image in
            let luminance = try Luminance.bt601(rgb: image.rgb, bytesPerPixel: 3)
            let hash = try PerceptualHash64(luminance: luminance, width: image.width, height: image.height)
            return Vector(
                name: image.name, width: image.width, height: image.height,
                rgbBase64: Data(image.rgb).base64EncodedString(), phash: hash.description)
        }
        return File(
            description: "RGB images (R, G, B channels named) and their PerceptualHash64 from Luminance.bt601; "
                + "written by BrowserVectorTests, checked by it and by test_browser_phash.py.",
            vectors: vectors)
    }

    @Test func vectorsFileIsWhatTheServerComputes() throws {
        let computed = try Self.computed()
        if ProcessInfo.processInfo.environment["PHASH_WRITE_VECTORS"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(computed).write(to: Self.url)
        }
        let stored = try JSONDecoder().decode(File.self, from: Data(contentsOf: Self.url))
        #expect(stored.vectors.count == 7)
        for (have, want) in zip(stored.vectors, computed.vectors) {
            #expect(have.name == want.name)
            #expect(have.rgbBase64 == want.rgbBase64, "pixels of \(want.name)")
            #expect(have.phash == want.phash, "hash of \(want.name)")
        }
    }

    /// The vectors are not degenerate: every hash differs from the others by many bits, so a
    /// wrong step in the browser cannot match them by luck.
    @Test func vectorsAreFarApart() throws {
        let hashes = try Self.computed().vectors.map { try PerceptualHash64(hex: $0.phash) }
        for i in hashes.indices {
            for j in hashes.indices where j > i {
                #expect(hashes[i].distance(to: hashes[j]) >= 12)
            }
        }
    }
}
