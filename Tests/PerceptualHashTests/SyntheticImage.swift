#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// SplitMix64: a tiny seeded generator, so every image and hash set is the same on every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
}

/// A grayscale test picture as floats on 0...255, with the edits the accuracy tests apply.
struct SyntheticImage: Sendable {
    let name: String
    let width: Int
    let height: Int
    var pixels: [Double]

    init(name: String, width: Int, height: Int, pixels: [Double]) {
        self.name = name
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    init(name: String, width: Int = 320, height: Int = 240, _ value: (Double, Double) -> Double) {
        var pixels: [Double] = []
        pixels.reserveCapacity(width * height)
        for y in 0..<height {
            for x in 0..<width {
                pixels.append(value(Double(x) / Double(width), Double(y) / Double(height)))
            }
        }
        self.init(name: name, width: width, height: height, pixels: pixels)
    }

    /// The 8-bit plane a decoder would hand over.
    var bytes: [UInt8] { pixels.map { UInt8(min(255, max(0, $0.rounded()))) } }

    /// A diagonal ramp bent by a radial term around an off-centre point.
    static func gradient(
        angle: Double, centre: (Double, Double), width: Int = 320, height: Int = 240
    ) -> SyntheticImage {
        SyntheticImage(name: "gradient \(Int(angle))°", width: width, height: height) { x, y in
            let ramp = x * cos(angle * .pi / 180) + y * sin(angle * .pi / 180)
            let dx = x - centre.0
            let dy = y - centre.1
            return 30 + 110 * (ramp + 1) / 2 + 80 * (1 - min(1, sqrt(dx * dx + dy * dy)))
        }
    }

    /// A few soft light and dark discs on mid-grey.
    static func blobs(seed: UInt64, width: Int = 320, height: Int = 240) -> SyntheticImage {
        var rng = SeededGenerator(seed: seed)
        let discs = (0..<6).map { _ in
            (x: rng.unit(), y: rng.unit(), r: 0.08 + 0.2 * rng.unit(), a: rng.unit() < 0.5 ? -90.0 : 90.0)
        }
        return SyntheticImage(name: "blobs \(seed)", width: width, height: height) { x, y in
            discs.reduce(128) { v, d in
                let dx = x - d.x
                let dy = y - d.y
                return v + d.a * exp(-(dx * dx + dy * dy) / (d.r * d.r))
            }
        }
    }

    /// Value noise: a coarse random lattice, smoothly interpolated, plus a finer, fainter one.
    static func texture(seed: UInt64, width: Int = 320, height: Int = 240) -> SyntheticImage {
        var rng = SeededGenerator(seed: seed)
        let coarse = (0..<(9 * 9)).map { _ in rng.unit() }
        let fine = (0..<(33 * 33)).map { _ in rng.unit() }
        func lattice(_ grid: [Double], _ n: Int, _ x: Double, _ y: Double) -> Double {
            let gx = x * Double(n - 1)
            let gy = y * Double(n - 1)
            let ix = min(n - 2, Int(gx))
            let iy = min(n - 2, Int(gy))
            let fx = gx - Double(ix)
            let fy = gy - Double(iy)
            let sx = fx * fx * (3 - 2 * fx)
            let sy = fy * fy * (3 - 2 * fy)
            let top = grid[iy * n + ix] * (1 - sx) + grid[iy * n + ix + 1] * sx
            let bottom = grid[(iy + 1) * n + ix] * (1 - sx) + grid[(iy + 1) * n + ix + 1] * sx
            return top * (1 - sy) + bottom * sy
        }
        return SyntheticImage(name: "texture \(seed)", width: width, height: height) { x, y in
            30 + 170 * lattice(coarse, 9, x, y) + 50 * lattice(fine, 33, x, y)
        }
    }

    /// Half the size, each output the mean of a 2x2 block.
    func downscaledByHalf() -> SyntheticImage {
        let w = width / 2
        let h = height / 2
        var out: [Double] = []
        for y in 0..<h {
            for x in 0..<w {
                let i = 2 * y * width + 2 * x
                out.append((pixels[i] + pixels[i + 1] + pixels[i + width] + pixels[i + width + 1]) / 4)
            }
        }
        return SyntheticImage(name: name, width: w, height: h, pixels: out)
    }

    /// Every pixel times `factor`, clipped at white (Pillow's `ImageEnhance.Brightness`).
    func brightened(by factor: Double) -> SyntheticImage {
        SyntheticImage(name: name, width: width, height: height, pixels: pixels.map { min(255, $0 * factor) })
    }

    /// Adds zero-mean noise of standard deviation `sigma`: the sum of 12 uniforms, nearly Gaussian.
    func withNoise(sigma: Double, seed: UInt64) -> SyntheticImage {
        var rng = SeededGenerator(seed: seed)
        return SyntheticImage(
            name: name, width: width, height: height,
            pixels: pixels.map { v in
                let n = (0..<12).reduce(-6.0) { s, _ in s + rng.unit() }
                return min(255, max(0, v + sigma * n))
            })
    }

    /// Keeps the centre, dropping `fraction` of the width and of the height, half on each side.
    func cropped(by fraction: Double) -> SyntheticImage {
        let dx = Int((Double(width) * fraction / 2).rounded())
        let dy = Int((Double(height) * fraction / 2).rounded())
        let w = width - 2 * dx
        let h = height - 2 * dy
        var out: [Double] = []
        for y in dy..<(dy + h) {
            out.append(contentsOf: pixels[(y * width + dx)..<(y * width + dx + w)])
        }
        return SyntheticImage(name: name, width: w, height: h, pixels: out)
    }
}
