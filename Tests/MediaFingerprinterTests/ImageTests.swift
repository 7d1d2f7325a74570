import Foundation
import ImageDecoding
import MediaFingerprinter
import PerceptualHash
import Testing

/// Real files from the vips and ffmpeg CLIs, through the production fingerprinter.
@Suite struct ImageTests {
    let fingerprinter = MediaFingerprinter()

    func hash(_ path: String) throws -> PerceptualHash64 {
        let outcome = fingerprinter.fingerprint(fileAt: path)
        return try #require(outcome.imageHash, "\(path): \(outcome)")
    }

    @Test func formatsDecodeToTheSameHash() throws {
        try withTemporaryDirectory { dir in
            try lavfiImage("mandelbrot", to: "\(dir)/original.png")
            let reference = try hash("\(dir)/original.png")
            // Debian's libvips has HEIF (libheif with libde265 and x265, so HEIC and AVIF).
            for target in ["jpg[Q=95]", "webp[Q=95]", "gif", "png[compression=9]", "heic[Q=90]", "avif[Q=90]"] {
                let path = "\(dir)/copy.\(target)"
                try tool("vips", ["copy", "\(dir)/original.png", path])
                let file = String(path.prefix { $0 != "[" })
                let distance = try hash(file).distance(to: reference)
                #expect(distance <= 4, "\(target): \(distance) bits from the PNG")
            }
            // One grey band and 16-bit RGB end as the same 8-bit sRGB luminance.
            for (name, space) in [("grey.png", "b-w"), ("rgb16.png", "rgb16")] {
                try tool("vips", ["colourspace", "\(dir)/original.png", "\(dir)/\(name)", space])
                let distance = try hash("\(dir)/\(name)").distance(to: reference)
                #expect(distance <= 4, "\(name): \(distance) bits from the PNG")
            }
        }
    }

    @Test func editsStayWithinTheThresholdAndUnrelatedDoesNot() throws {
        try withTemporaryDirectory { dir in
            try lavfiImage("mandelbrot", size: "1024x768", to: "\(dir)/original.png")
            let reference = try hash("\(dir)/original.png")
            try tool("vips", ["resize", "\(dir)/original.png", "\(dir)/half.png", "0.5"])
            try tool("vips", ["copy", "\(dir)/original.png", "\(dir)/q60.jpg[Q=60]"])
            for edit in ["half.png", "q60.jpg"] {
                let distance = try hash("\(dir)/\(edit)").distance(to: reference)
                #expect(distance <= PerceptualHash64.defaultThreshold, "\(edit): \(distance) bits")
            }
            try lavfiImage("testsrc2", size: "1024x768", to: "\(dir)/unrelated.png")
            let unrelated = try hash("\(dir)/unrelated.png").distance(to: reference)
            #expect(unrelated > PerceptualHash64.defaultThreshold, "unrelated: \(unrelated) bits")
        }
    }

    @Test func exifOrientationIsApplied() throws {
        try withTemporaryDirectory { dir in
            // The same upright picture twice: stored upright, and stored turned a quarter
            // anticlockwise with EXIF orientation 6 ("rotate 90° clockwise to display").
            try lavfiImage("mandelbrot", size: "480x320", to: "\(dir)/upright.png")
            try tool("vips", ["rot", "\(dir)/upright.png", "\(dir)/stored.jpg[Q=95]", "d270"])
            try write(withOrientation(6, jpeg: try bytes(of: "\(dir)/stored.jpg")), to: "\(dir)/tagged.jpg")
            let upright = try hash("\(dir)/upright.png")
            let distance = try hash("\(dir)/tagged.jpg").distance(to: upright)
            #expect(distance <= 4, "orientation 6: \(distance) bits from upright")
            let ignored = try hash("\(dir)/stored.jpg").distance(to: upright)
            #expect(ignored > PerceptualHash64.defaultThreshold, "the untagged file differs: \(ignored) bits")
        }
    }

    @Test func brokenInputsAreUnavailable() throws {
        try withTemporaryDirectory { dir in
            try lavfiImage("mandelbrot", to: "\(dir)/whole.jpg")
            let jpeg = try bytes(of: "\(dir)/whole.jpg")
            try write(Array(jpeg.prefix(jpeg.count / 2)), to: "\(dir)/truncated.jpg")
            var rng = SystemRandomNumberGenerator()
            try write((0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) }, to: "\(dir)/random")
            try write([0xFF, 0xD8, 0xFF] + (0..<4096).map { _ in UInt8.random(in: 0...255) }, to: "\(dir)/fake.jpg")
            try write(pngHeaderBomb(width: 30000, height: 30000), to: "\(dir)/bomb.png")
            try write([], to: "\(dir)/empty")

            // libheif's message names the file: the reason must not.
            try write(
                [0, 0, 0, 0x18] + Array("ftypheic\0\0\0\0mif1heic".utf8)
                    + (0..<500).map { _ in UInt8.random(in: 0...255) },
                to: "\(dir)/fake.heic")
            for name in ["truncated.jpg", "fake.jpg", "bomb.png", "fake.heic"] {
                let outcome = fingerprinter.fingerprint(fileAt: "\(dir)/\(name)")
                #expect(outcome.reason != nil, "\(name): \(outcome)")
                #expect(outcome.reason?.contains(dir) == false, "the path leaks: \(outcome)")
            }
            #expect(fingerprinter.fingerprint(fileAt: "\(dir)/bomb.png").reason?.contains("limit") == true)
            #expect(fingerprinter.fingerprint(fileAt: "\(dir)/random").reason == "not an image or video")
            #expect(fingerprinter.fingerprint(fileAt: "\(dir)/empty").reason == "not an image or video")
            #expect(fingerprinter.fingerprint(fileAt: "\(dir)/missing").reason?.contains("cannot open") == true)
        }
    }

    @Test func shrinksOnLoadToTheShortSide() throws {
        try withTemporaryDirectory { dir in
            try lavfiImage("mandelbrot", size: "2000x1000", to: "\(dir)/big.jpg")
            let plane = try ImageDecoder().luminance(fileAt: "\(dir)/big.jpg")
            #expect(plane.height == 256 && plane.width == 512, "\(plane.width)x\(plane.height)")
            try lavfiImage("mandelbrot", size: "200x100", to: "\(dir)/small.png")
            let small = try ImageDecoder().luminance(fileAt: "\(dir)/small.png")
            #expect(small.width == 200 && small.height == 100, "never enlarged")
        }
    }

    @Test func thumbnailIsASmallJPEG() throws {
        try withTemporaryDirectory { dir in
            try lavfiImage("mandelbrot", size: "640x480", to: "\(dir)/original.png")
            let jpeg = try ImageDecoder().thumbnailJPEG(fileAt: "\(dir)/original.png", maxSide: 64)
            #expect(jpeg.starts(with: [0xFF, 0xD8, 0xFF]))
            try write(jpeg, to: "\(dir)/thumb.jpg")
            let plane = try ImageDecoder().luminance(fileAt: "\(dir)/thumb.jpg")
            #expect(plane.width == 64 && plane.height == 48, "\(plane.width)x\(plane.height)")
        }
    }

    @Test func concurrentCallsAgree() throws {
        try withTemporaryDirectory { dir in
            try lavfiImage("mandelbrot", to: "\(dir)/a.jpg")
            let expected = try hash("\(dir)/a.jpg")
            let results = ResultBox()
            DispatchQueue.concurrentPerform(iterations: 16) { _ in
                results.append(MediaFingerprinter().fingerprint(fileAt: "\(dir)/a.jpg").imageHash)
            }
            #expect(results.values.count == 16 && results.values.allSatisfy { $0 == expected })
        }
    }
}

/// Collects results from concurrent closures.
final class ResultBox: @unchecked Sendable {
    // @unchecked: every access to `storage` holds `lock`.
    private let lock = NSLock()
    private var storage: [PerceptualHash64?] = []
    func append(_ value: PerceptualHash64?) { lock.withLock { storage.append(value) } }
    var values: [PerceptualHash64?] { lock.withLock { storage } }
}
