import PerceptualHash
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The hash's text form, its bit layout, and the luminance PIL would give.
@Suite struct PerceptualHash64Tests {
    @Test func hexRoundTrips() throws {
        var rng = SeededGenerator(seed: 14)
        for bits in [0, 1, UInt64.max, 0x8000_0000_0000_0000] + (0..<1000).map({ _ in rng.next() }) {
            let hash = PerceptualHash64(bits: bits)
            #expect(hash.description.count == 16)
            #expect(try PerceptualHash64(hex: hash.description) == hash)
        }
        #expect(PerceptualHash64(bits: 0xF).description == "000000000000000f")
        #expect(try PerceptualHash64(hex: "C3A5FFFF0000E1D2").bits == 0xC3A5_FFFF_0000_E1D2)
    }

    @Test(arguments: [
        "", "123", "000000000000000", "00000000000000000", "000000000000000g", " 00000000000000f",
        "0x00000000000000", "ffffffff-fffffff", "00000000000000é",
    ])
    func badHexIsRejected(text: String) {
        #expect {
            try PerceptualHash64(hex: text)
        } throws: { error in
            guard let error = error as? PerceptualHashError else { return false }
            return error.code == .invalidHex && error.message.hasPrefix("a perceptual hash is 16 hex digits")
        }
    }

    @Test func distanceIsPopcountOfXor() {
        let a = PerceptualHash64(bits: 0b1011)
        let b = PerceptualHash64(bits: 0b0110)
        #expect(a.distance(to: b) == 3)
        #expect(a.distance(to: a) == 0)
        #expect(PerceptualHash64(bits: 0).distance(to: PerceptualHash64(bits: .max)) == 64)
    }

    @Test func luminanceMatchesPIL() throws {
        // PIL: Image.new("RGB", (1, 1), c).convert("L").getpixel((0, 0)) for red, green, blue, white, grey.
        let rgb: [UInt8] = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 100, 150, 200]
        #expect(try Luminance.bt601(rgb: rgb, bytesPerPixel: 3) == [76, 150, 29, 255, 141])
        let rgba: [UInt8] = [255, 0, 0, 7, 0, 255, 0, 0]
        #expect(try Luminance.bt601(rgb: rgba, bytesPerPixel: 4) == [76, 150])
        #expect(throws: PerceptualHashError.self) { try Luminance.bt601(rgb: [1, 2], bytesPerPixel: 3) }
    }

    @Test func badImageSizeIsRejected() {
        #expect(throws: PerceptualHashError.self) { try PerceptualHash64(luminance: [UInt8](), width: 0, height: 0) }
        #expect(throws: PerceptualHashError.self) {
            try PerceptualHash64(luminance: [UInt8](repeating: 0, count: 5), width: 2, height: 3)
        }
        // A size whose product overflows is an error, not a trap.
        #expect(throws: PerceptualHashError.self) {
            try PerceptualHash64(luminance: [UInt8](repeating: 0, count: 5), width: .max, height: 2)
        }
    }

    /// The DC term is the largest coefficient of any image that is not black, so bit 63 is set.
    @Test func dcTermIsTheTopBit() throws {
        for image in [SyntheticImage.texture(seed: 1), .blobs(seed: 2)] {
            let hash = try PerceptualHash64(luminance: image.bytes, width: image.width, height: image.height)
            #expect(hash.bits >> 63 == 1)
        }
    }

    @Test func floatAndByteInputsAgree() throws {
        let image = SyntheticImage.texture(seed: 3)
        let bytes = image.bytes
        let fromBytes = try PerceptualHash64(luminance: bytes, width: image.width, height: image.height)
        let fromFloats = try PerceptualHash64(
            luminance: bytes.map(Float.init), width: image.width, height: image.height)
        #expect(fromBytes == fromFloats)
    }

    @Test func tinyAndOddSizedImagesHash() throws {
        for (w, h) in [(1, 1), (7, 3), (31, 33), (33, 1000)] {
            let image = SyntheticImage(name: "tiny", width: w, height: h) { x, y in 255 * x * y }
            _ = try PerceptualHash64(luminance: image.bytes, width: w, height: h)
        }
    }
}
