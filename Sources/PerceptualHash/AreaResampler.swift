/// Area-average resampling of one axis: each output pixel is the mean of the input it covers,
/// partial pixels weighted by the covered fraction.
///
/// For whole-number ratios this is Pillow's `BOX` filter; it also upsamples (a source smaller
/// than the target) without special cases.
struct AreaResampler: Sendable {
    /// First input index read by each output pixel.
    let starts: [Int]
    /// Offsets into `weights` of each output pixel's run; `offsets[i + 1] - offsets[i]` inputs.
    let offsets: [Int]
    /// Concatenated per-output weights, each run summing to 1.
    let weights: [Double]

    init(from inputCount: Int, to outputCount: Int) {
        let scale = Double(inputCount) / Double(outputCount)
        var starts: [Int] = []
        var offsets: [Int] = [0]
        var weights: [Double] = []
        starts.reserveCapacity(outputCount)
        for out in 0..<outputCount {
            let lo = Double(out) * scale
            let hi = Double(out + 1) * scale
            let first = Int(lo.rounded(.down))
            let last = min(inputCount - 1, Int(hi.rounded(.up)) - 1)
            starts.append(first)
            for i in first...max(first, last) {
                let covered = min(hi, Double(i + 1)) - max(lo, Double(i))
                weights.append(max(0, covered) / scale)
            }
            offsets.append(weights.count)
        }
        self.starts = starts
        self.offsets = offsets
        self.weights = weights
    }

    /// Resamples a `width` x `height` plane to `side` x `side`, horizontally first so the large
    /// pass writes only `height` x `side` values.
    static func resample<Pixel>(
        _ pixels: UnsafeBufferPointer<Pixel>, width: Int, height: Int, side: Int, value: (Pixel) -> Double
    ) -> [Double] {
        let horizontal = AreaResampler(from: width, to: side)
        let vertical = AreaResampler(from: height, to: side)
        var rows = [Double](repeating: 0, count: height * side)
        rows.withUnsafeMutableBufferPointer { rows in
            horizontal.weights.withUnsafeBufferPointer { w in
                for y in 0..<height {
                    let row = y * width
                    for x in 0..<side {
                        var sum = 0.0
                        var i = row + horizontal.starts[x]
                        for k in horizontal.offsets[x]..<horizontal.offsets[x + 1] {
                            sum += w[k] * value(pixels[i])
                            i += 1
                        }
                        rows[y * side + x] = sum
                    }
                }
            }
        }
        var out = [Double](repeating: 0, count: side * side)
        for oy in 0..<side {
            var y = vertical.starts[oy]
            for k in vertical.offsets[oy]..<vertical.offsets[oy + 1] {
                let weight = vertical.weights[k]
                for x in 0..<side {
                    out[oy * side + x] += weight * rows[y * side + x]
                }
                y += 1
            }
        }
        return out
    }
}
